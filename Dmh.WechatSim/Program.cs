// Local stand-in for WeChat Pay v3 and WeChat OAuth (see ../shared/docs/wechatpay-v3.md section 8).
var builder = WebApplication.CreateBuilder(args);
var app = builder.Build();
app.MapGet("/healthz", () => TypedResults.Ok("ok"));
app.Run();
