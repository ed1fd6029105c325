using Dmh.Platform.Hosting;

// A worker: it settles payments from the payments stream; HTTP only for health and metrics.
var builder = WebApplication.CreateBuilder(args);
builder.AddServiceDefaults();

var app = builder.Build();
app.MapDefaultEndpoints();
app.Run();
