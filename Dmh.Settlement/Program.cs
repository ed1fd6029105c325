using Dmh.Contracts;
using Dmh.Platform.Hosting;
using Dmh.Platform.Streams;
using Dmh.Settlement.Reconciliation;
using Dmh.Settlement.Rewards;
using Dmh.Settlement.Settling;
using Dmh.Settlement.Tracking;
using Dmh.Settlement.Withdrawals;
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
// Visit tracking: the page's events, rolled up per day and hour (issue 19).
builder.AddTracking();
// Frozen rewards become available when their campaign's hold is over.
builder.AddRewardHold();
// Withdrawals paid by WeChat merchant transfer: bills whose notify never came are asked about (issue 18).
builder.AddTransferReconciliation();

var app = builder.Build();
app.MapDefaultEndpoints();
app.Run();
