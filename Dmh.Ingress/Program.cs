using Dmh.Ingress.DeadLetters;
using Dmh.Ingress.Admins;
using Dmh.Ingress.Campaigns;
using Dmh.Ingress.Frontends;
using Dmh.Ingress.Orders;
using Dmh.Ingress.Payments;
using Dmh.Ingress.Rewards;
using Dmh.Ingress.Posters;
using Dmh.Ingress.Security;
using Dmh.Ingress.WechatAuth;
using Dmh.Ingress.Sync;
using Dmh.Ingress.Sms;
using Dmh.Ingress.Stats;
using Dmh.Ingress.Uploads;
using Dmh.Platform.Database;
using Dmh.Platform.Hosting;
using Dmh.Platform.WechatPay;
using Microsoft.Extensions.Options;

var builder = WebApplication.CreateBuilder(args);
builder.AddServiceDefaults();
builder.AddDmhAuth();
builder.AddFrontends();
builder.AddWechatPay();
builder.AddPayments();
builder.AddWechatAuth();
builder.AddPosters();
builder.AddAdmins();
builder.AddCampaigns();
builder.AddOrders();
builder.AddSms();
builder.AddUploads();
builder.AddStats();
builder.Services.AddOpenApi();

var app = builder.Build();
app.UseExceptionHandler();
app.UseStatusCodePages();
app.UseAuthentication();
app.UseAuthorization();
app.UsePublicLimits();

if (app.Services.GetRequiredService<IOptions<DatabaseOptions>>().Value.ApplyMigrations)
{
    await app.Services.GetRequiredService<Migrator>().MigrateAsync();
}

app.MapDefaultEndpoints();
app.MapOpenApi();
// Feature endpoints: one Map…Endpoints() per feature folder.
app.MapPosterEndpoints();
app.MapFrontends();
app.MapPaymentEndpoints();
app.MapWechatAuthEndpoints();
app.MapRewardEndpoints();
app.MapDeadLetterEndpoints();
app.MapAdminEndpoints();
app.MapCampaignEndpoints();
app.MapSyncEndpoints();
app.MapOrderEndpoints();
app.MapSmsEndpoints();
app.MapUploadEndpoints();
app.MapStatsEndpoints();

app.Run();
