using Dmh.Ingress.Admins;
using Dmh.Ingress.Audit;
using Dmh.Ingress.Campaigns;
using Dmh.Ingress.Channels;
using Dmh.Ingress.CheckIns;
using Dmh.Ingress.DeadLetters;
using Dmh.Ingress.Frontends;
using Dmh.Ingress.Funnel;
using Dmh.Ingress.Http;
using Dmh.Ingress.Orders;
using Dmh.Ingress.Payments;
using Dmh.Ingress.Posters;
using Dmh.Ingress.Registrations;
using Dmh.Ingress.Rewards;
using Dmh.Ingress.Security;
using Dmh.Ingress.Sms;
using Dmh.Ingress.Stats;
using Dmh.Ingress.Sync;
using Dmh.Ingress.Tracking;
using Dmh.Ingress.Uploads;
using Dmh.Ingress.WechatAuth;
using Dmh.Ingress.WechatDomain;
using Dmh.Ingress.WechatShare;
using Dmh.Ingress.Withdrawals;
using Dmh.Platform.Database;
using Dmh.Platform.Hosting;
using Dmh.WechatPay;
using Microsoft.Extensions.Options;

var builder = WebApplication.CreateBuilder(args);
builder.AddServiceDefaults();
builder.AddProblems();
builder.AddManagementPort();
builder.AddClientAddress();
builder.Services.AddHsts(o => o.MaxAge = TimeSpan.FromDays(365));
builder.AddDmhAuth();
builder.AddFrontends();
builder.AddWechatPay();
builder.AddPayments();
builder.AddWechatAuth();
builder.AddWechatDomainFiles();
builder.AddWechatShare();
builder.AddPosters();
builder.AddAuditLog();
builder.AddAdmins();
builder.AddCampaigns();
builder.AddOrders();
builder.AddSms();
builder.AddUploads();
builder.AddStats();
builder.AddCheckIns();
builder.AddTracking();
builder.AddWithdrawals();
builder.Services.AddOpenApi();

var app = builder.Build();
app.UseClientAddress();
// Sent only on https requests (directly or through a known proxy's X-Forwarded-Proto).
app.UseHsts();
app.UseExceptionHandler();
app.UseStatusCodePages();
app.UseManagementPort();
app.UseAuthentication();
app.UseAuthorization();
app.UsePublicLimits();

if (app.Services.GetRequiredService<IOptions<DatabaseOptions>>().Value.ApplyMigrations)
{
    await app.Services.GetRequiredService<Migrator>().MigrateAsync();
}

app.MapDefaultEndpoints();
app.MapOpenApi().ManagementOnly();
// Feature endpoints: one Map…Endpoints() per feature folder.
app.MapPosterEndpoints();
app.MapPosterTemplateEndpoints();
app.MapFrontends();
app.MapPaymentEndpoints();
app.MapPaymentNotifyEndpoints();
app.MapWechatAuthEndpoints();
app.MapWechatDomainFiles();
app.MapJsSdkEndpoints();
app.MapRewardEndpoints();
app.MapDeadLetterEndpoints();
app.MapAdminEndpoints();
app.MapAuditEndpoints();
app.MapCampaignEndpoints();
app.MapSyncEndpoints();
app.MapOrderEndpoints();
app.MapSmsEndpoints();
app.MapUploadEndpoints();
app.MapStatsEndpoints();
app.MapCheckInEndpoints();
app.MapMyRegistrationEndpoints();
app.MapTrackEndpoints();
app.MapChannelEndpoints();
app.MapFunnelEndpoints();
app.MapWithdrawalEndpoints();
app.MapTransferNotifyEndpoints();

app.Run();
