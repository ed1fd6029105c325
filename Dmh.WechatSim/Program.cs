using Dmh.WechatSim;

// Local stand-in for WeChat Pay v3 and WeChat OAuth (docs/wechatpay-v3.md section 8), and for Tencent Cloud SMS.
var builder = WebApplication.CreateBuilder(args);
builder.Logging.ClearProviders();
builder.Logging.AddSimpleConsole(o =>
{
    o.SingleLine = true;
    o.TimestampFormat = "HH:mm:ss.fff ";
    o.UseUtcTimestamp = true;
});
builder.Services.AddOptions<SimulatorOptions>()
    .BindConfiguration(SimulatorOptions.SectionName)
    .ValidateDataAnnotations()
    .Validate(o => File.Exists(o.MerchantPublicKeyFile), "Simulator:MerchantPublicKeyFile must name an existing PEM file.")
    .ValidateOnStart();
builder.Services.AddSingleton(TimeProvider.System);
builder.Services.AddSingleton<SimKeys>();
builder.Services.AddSingleton(sp =>
{
    var state = new SimState();
    state.SignWith = sp.GetRequiredService<Microsoft.Extensions.Options.IOptions<SimulatorOptions>>().Value.SignWith;
    return state;
});
builder.Services.AddSingleton<MpState>();
builder.Services.AddSingleton<NotifySender>();
builder.Services.AddSingleton<Cashier>();
builder.Services.AddSingleton<SmsOutbox>();
builder.Services.AddHttpClient(NotifySender.ClientName);
builder.Services.AddCors(o => o.AddPolicy(PayPages.CorsPolicy, p => p.AllowAnyOrigin().AllowAnyHeader().WithMethods("POST")));

var app = builder.Build();
// Create (or load) the key pair before answering /healthz: ./dmh reads wechatpay_public_key.pem once healthy.
app.Services.GetRequiredService<SimKeys>();
app.UseCors();
app.MapGet("/healthz", () => TypedResults.Ok("ok"));
app.MapMchApi();
app.MapPayPages();
app.MapOAuth();
app.MapMpApi();
app.MapControl();
app.MapTransferControls();
app.MapTencentSms();
app.Run();
