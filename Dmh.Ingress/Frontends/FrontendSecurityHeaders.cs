using System.Security.Cryptography;
using System.Text;
using System.Text.RegularExpressions;
using Dmh.WechatPay;
using Microsoft.Extensions.FileProviders;

namespace Dmh.Ingress.Frontends;

/// <summary>
/// Security headers of the served front ends: a Content-Security-Policy that allows what the built apps
/// load (their own files, the inline scripts of their index.html by hash, configured extra origins),
/// no framing, and a referrer that carries only the origin to other sites.
/// </summary>
public sealed partial class FrontendSecurityHeaders(IFileProvider files, FrontendSecurityHeaders.PageSources sources)
{
    /// <summary>The origins beyond 'self' one app's pages use.</summary>
    public sealed record PageSources(IReadOnlyList<string> Scripts, IReadOnlyList<string> Connect, IReadOnlyList<string> Images, bool Eval);

    private (DateTimeOffset Stamp, long Length, string Policy)? _policy;

    /// <summary>What the admin console (<paramref name="h5"/> false) or the H5 page loads.</summary>
    public static PageSources Sources(FrontendOptions options, WechatPayOptions wechat, bool h5)
    {
        var scripts = new List<string>(options.ScriptSources);
        var connect = new List<string>(options.ConnectSources);
        if (h5 && wechat.IsSimulator && Uri.TryCreate(wechat.BaseUrl, UriKind.Absolute, out var simulator))
        {
            // Locally the H5 page loads the simulator's WeixinJSBridge shim, which posts to the simulator.
            var origin = simulator.GetLeftPart(UriPartial.Authority);
            scripts.Add(origin);
            connect.Add(origin);
        }
        else if (h5)
        {
            // WeChat's JS-SDK (share cards inside WeChat).
            scripts.Add(new Uri(WechatJsSdk.ScriptUrl).GetLeftPart(UriPartial.Authority));
        }

        // h5/vite.config.js drops the CDN images uni-h5's CSS would preload, so no page needs another image origin.
        var images = new List<string>(options.ImageSources);

        // The H5 page validates the campaign's form with Ajv, which compiles each schema into a function.
        return new PageSources(scripts, connect, images, Eval: h5);
    }

    public static bool IsOrigin(string source) => OriginPattern().IsMatch(source);

    public void Apply(HttpResponse response)
    {
        var headers = response.Headers;
        headers.ContentSecurityPolicy = Policy();
        headers.XFrameOptions = "DENY";
        headers.XContentTypeOptions = "nosniff";
        headers["Referrer-Policy"] = "strict-origin-when-cross-origin";
    }

    /// <summary>The policy for the current index.html, rebuilt when a new build replaces it.</summary>
    private string Policy()
    {
        var index = files.GetFileInfo("index.html");
        var cached = _policy;
        if (cached is { } c && c.Stamp == index.LastModified && c.Length == index.Length)
        {
            return c.Policy;
        }

        var hashes = new List<string>();
        if (index.Exists)
        {
            using var reader = new StreamReader(index.CreateReadStream(), Encoding.UTF8);
            hashes.AddRange(InlineScriptHashes(reader.ReadToEnd()));
        }

        var policy = Build(sources, hashes);
        _policy = (index.LastModified, index.Length, policy);
        return policy;
    }

    public static string Build(PageSources sources, IEnumerable<string> inlineScriptHashes)
    {
        IEnumerable<string> script = ["'self'", .. inlineScriptHashes.Select(h => $"'sha256-{h}'"), .. sources.Scripts];
        if (sources.Eval)
        {
            script = script.Append("'unsafe-eval'");
        }

        return string.Join("; ",
            "default-src 'self'",
            "script-src " + string.Join(' ', script.Distinct(StringComparer.Ordinal)),
            // Element Plus, ECharts and uni-app set inline styles at run time.
            "style-src 'self' 'unsafe-inline'",
            "img-src " + string.Join(' ', new[] { "'self'", "data:", "blob:" }.Concat(sources.Images).Distinct(StringComparer.Ordinal)),
            "font-src 'self' data:",
            "connect-src " + string.Join(' ', new[] { "'self'" }.Concat(sources.Connect).Distinct(StringComparer.Ordinal)),
            "object-src 'none'",
            "base-uri 'self'",
            "form-action 'self'",
            "frame-ancestors 'none'");
    }

    /// <summary>Base64 SHA-256 of each inline script, over the text as the browser sees it (line ends as LF).</summary>
    public static IEnumerable<string> InlineScriptHashes(string html) =>
        InlineScript().Matches(html).Select(m =>
            Convert.ToBase64String(SHA256.HashData(Encoding.UTF8.GetBytes(m.Groups[1].Value.Replace("\r\n", "\n", StringComparison.Ordinal).Replace('\r', '\n')))));

    [GeneratedRegex(@"<script\b(?![^>]*\bsrc\s*=)[^>]*>(.*?)</script\s*>", RegexOptions.IgnoreCase | RegexOptions.Singleline)]
    private static partial Regex InlineScript();

    [GeneratedRegex(@"^https?://[A-Za-z0-9.*-]+(:[0-9]{1,5})?$")]
    private static partial Regex OriginPattern();
}
