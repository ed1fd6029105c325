using Dmh.Platform.Hosting;
using Dmh.Syncer;


if (args.Length > 0 && args[0] == "encrypt-secret")
{
    return EncryptSecret.Run(args[1..]);
}

// A worker: it copies settled rows into the customer's database; HTTP only for health and metrics.
var builder = WebApplication.CreateBuilder(args);
builder.AddServiceDefaults();
builder.AddSyncer();

var app = builder.Build();
app.MapDefaultEndpoints();
app.Run();
return 0;
