using Dmh.WechatPay;
using Microsoft.AspNetCore.StaticFiles;
using Microsoft.Extensions.FileProviders;
using Microsoft.Extensions.Options;
using Microsoft.Net.Http.Headers;

namespace Dmh.Ingress.Frontends;

public sealed class FrontendOptions
{
    public const string SectionName = "Frontends";

    /// <summary>Built admin console (admin/dist), served at /admin/.</summary>
    public string? AdminDist { get; set; }

    /// <summary>Built H5 page (h5/dist/build/h5), served at /h5/.</summary>
    public string? H5Dist { get; set; }

    /// <summary>Origins the pages may load scripts from besides their own (e.g. <c>https://res.wx.qq.com</c> for the WeChat JS-SDK).</summary>
    public string[] ScriptSources { get; set; } = [];

    /// <summary>Origins the pages may call (fetch, XHR) besides their own.</summary>
    public string[] ConnectSources { get; set; } = [];

    /// <summary>Origins the pages may show images from besides their own, <c>data:</c> and <c>blob:</c>.</summary>
    public string[] ImageSources { get; set; } = [];
}

/// <summary>
/// Serves the built front ends so one URL runs the whole product. The builds write .br/.gz siblings
/// of their assets; those are served to clients that accept them, because on a slow mobile network
/// the compressed bundle is what keeps the H5 page's first load under the proposal's 3 s.
/// </summary>
public static class FrontendEndpoints
{
    private static readonly FileExtensionContentTypeProvider ContentTypes = new();

    public static WebApplicationBuilder AddFrontends(this WebApplicationBuilder builder)
    {
        builder.Services.AddOptions<FrontendOptions>().BindConfiguration(FrontendOptions.SectionName)
            .Validate(o => o.ScriptSources.Concat(o.ConnectSources).Concat(o.ImageSources).All(FrontendSecurityHeaders.IsOrigin),
                "Frontends:ScriptSources, ConnectSources and ImageSources must be origins such as https://res.wx.qq.com.")
            .ValidateOnStart();
        return builder;
    }

    public static WebApplication MapFrontends(this WebApplication app)
    {
        var options = app.Services.GetRequiredService<IOptions<FrontendOptions>>().Value;
        var wechat = app.Services.GetRequiredService<IOptions<WechatPayOptions>>().Value;
        Serve(app, "/admin", options.AdminDist, FrontendSecurityHeaders.Sources(options, wechat, h5: false));
        Serve(app, "/h5", options.H5Dist, FrontendSecurityHeaders.Sources(options, wechat, h5: true));
        app.MapGet("/", () => TypedResults.Redirect("/admin/")).ExcludeFromDescription();
        return app;
    }

    private static void Serve(WebApplication app, string path, string? directory, FrontendSecurityHeaders.PageSources sources)
    {
        if (string.IsNullOrWhiteSpace(directory) || !Directory.Exists(directory))
        {
            app.Logger.LogWarning("Front end for {Path} not found at {Directory}; run ./dmh up to build it", path, directory);
            return;
        }

        var root = Path.GetFullPath(directory);
        var files = new PhysicalFileProvider(root);
        var headers = new FrontendSecurityHeaders(files, sources);
        app.MapGet(path, () => TypedResults.Redirect(path + "/")).ExcludeFromDescription();
        app.Use(async (context, next) =>
        {
            if (context.Request.Path.StartsWithSegments(path, out var rest) && HttpMethods.IsGet(context.Request.Method))
            {
                var relative = rest.Value is null or "/" or "" ? "index.html" : rest.Value.TrimStart('/');
                if (await TryServeAsync(context, files, relative, headers))
                {
                    return;
                }
            }

            await next(context);
        });
    }

    private static async Task<bool> TryServeAsync(HttpContext context, PhysicalFileProvider files, string relative, FrontendSecurityHeaders headers)
    {
        var file = files.GetFileInfo(relative);
        if (!file.Exists || file.IsDirectory)
        {
            return false;
        }

        if (!ContentTypes.TryGetContentType(relative, out var contentType))
        {
            contentType = "application/octet-stream";
        }

        var accepts = context.Request.Headers.AcceptEncoding.ToString();
        var served = file;
        string? encoding = null;
        foreach (var (token, suffix) in new[] { ("br", ".br"), ("gzip", ".gz") })
        {
            var candidate = files.GetFileInfo(relative + suffix);
            if (accepts.Contains(token, StringComparison.OrdinalIgnoreCase) && candidate.Exists)
            {
                served = candidate;
                encoding = token;
                break;
            }
        }

        var response = context.Response;
        response.ContentType = contentType;
        response.ContentLength = served.Length;
        response.Headers.Vary = HeaderNames.AcceptEncoding;
        if (encoding is not null)
        {
            response.Headers.ContentEncoding = encoding;
        }

        headers.Apply(response);
        // Hashed build assets never change under the same name; index.html must always be fresh.
        response.Headers.CacheControl = relative.StartsWith("assets/", StringComparison.Ordinal)
            ? "public, max-age=31536000, immutable"
            : "no-cache";
        await response.SendFileAsync(served, context.RequestAborted);
        return true;
    }
}
