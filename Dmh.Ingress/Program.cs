using Dmh.Ingress.Frontends;
using Dmh.Ingress.Security;
using Dmh.Ingress.Sync;
using Dmh.Platform.Database;
using Dmh.Platform.Hosting;
using Microsoft.Extensions.Options;

var builder = WebApplication.CreateBuilder(args);
builder.AddServiceDefaults();
builder.AddDmhAuth();
builder.AddFrontends();
builder.Services.AddOpenApi();

var app = builder.Build();
app.UseExceptionHandler();
app.UseStatusCodePages();
app.UseAuthentication();
app.UseAuthorization();

if (app.Services.GetRequiredService<IOptions<DatabaseOptions>>().Value.ApplyMigrations)
{
    await app.Services.GetRequiredService<Migrator>().MigrateAsync();
}

app.MapDefaultEndpoints();
app.MapOpenApi();
// Feature endpoints: one Map…Endpoints() per feature folder.
app.MapFrontends();
app.MapSyncEndpoints();

app.Run();
