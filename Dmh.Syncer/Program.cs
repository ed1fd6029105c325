using System.ComponentModel.DataAnnotations;
using Dmh.Platform.Hosting;
using Dmh.Syncer.Target;

// A worker: it copies settled rows into the customer's database; HTTP only for health and metrics.
var builder = WebApplication.CreateBuilder(args);
builder.AddServiceDefaults();
builder.Services.AddOptions<ExternalSyncOptions>()
    .BindConfiguration(ExternalSyncOptions.SectionName)
    .ValidateDataAnnotations()
    .Validate(o => Validator.TryValidateObject(o.Database, new ValidationContext(o.Database), null, validateAllProperties: true),
        "ExternalSync:Database is invalid: Type must be oracle, sqlserver, mysql or postgresql and Port a TCP port.")
    .ValidateOnStart();
builder.Services.AddHealthChecks().AddCheck<TargetHealthCheck>("target", tags: [ServiceDefaults.ReadyTag]);

var app = builder.Build();
app.MapDefaultEndpoints();
app.Run();
