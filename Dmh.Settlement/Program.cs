using Dmh.Contracts;
using Dmh.Platform.Hosting;
using Dmh.Platform.Streams;
using Dmh.Platform.WechatPay;
using Dmh.Settlement.Reconciliation;
using Dmh.Settlement.Settling;

// Socket completions run on the socket engine's thread instead of being handed to the thread pool.
// Settlement's continuations only wait on MySQL and Redis, never block, and that hand-off was most of
// its thread wake-ups: at 500 payments/s on 2 cores, 40 context switches per payment became 8 and its
// CPU per payment fell by a quarter (perf/README.md). .NET reads the variable once, at the first
// socket, so it is set before anything connects; DOTNET_SYSTEM_NET_SOCKETS_INLINE_COMPLETIONS=0 in
// the environment keeps .NET's default.
const string InlineSocketCompletions = "DOTNET_SYSTEM_NET_SOCKETS_INLINE_COMPLETIONS";
if (Environment.GetEnvironmentVariable(InlineSocketCompletions) is null)
{
    Environment.SetEnvironmentVariable(InlineSocketCompletions, "1");
}

// A worker: it settles payments from the payments stream; HTTP only for health and metrics.
var builder = WebApplication.CreateBuilder(args);
builder.AddServiceDefaults();
builder.AddSettlement();
// The reconciliation job asks WeChat Pay (or the simulator) about payments whose notify never came.
builder.AddWechatPay();
builder.AddStreamConsumer<PaymentSettlementHandler>("Settlement:Consumer", StreamNames.Payments, GroupNames.Settlement);
builder.AddReconciliation();

var app = builder.Build();
app.MapDefaultEndpoints();
app.Run();
