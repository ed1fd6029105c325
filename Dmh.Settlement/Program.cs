using Dmh.Contracts;
using Dmh.Platform.Hosting;
using Dmh.Platform.Streams;
using Dmh.Settlement.Reconciliation;
using Dmh.Settlement.Rewards;
using Dmh.Settlement.Settling;
using Dmh.WechatPay;

// Settlement's continuations only wait on MySQL and Redis: see InlineSocketCompletions.
InlineSocketCompletions.EnableUnlessConfigured();

// A worker: it settles payments from the payments stream; HTTP only for health and metrics.
var builder = WebApplication.CreateBuilder(args);
builder.AddServiceDefaults();
builder.AddSettlement();
// The reconciliation job asks WeChat Pay (or the simulator) about payments whose notify never came.
builder.AddWechatPay();
builder.AddStreamConsumer<PaymentSettlementHandler>("Settlement:Consumer", StreamNames.Payments, GroupNames.Settlement);
builder.AddReconciliation();
// Frozen rewards become available when their campaign's hold is over.
builder.AddRewardHold();

var app = builder.Build();
app.MapDefaultEndpoints();
app.Run();
