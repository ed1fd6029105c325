using System.Text.RegularExpressions;
using Microsoft.Extensions.Options;

namespace Dmh.Ingress.WechatDomain;

/// <summary>One domain-verification file WeChat asks for (公众号 JS 接口安全域名 / 网页授权域名).</summary>
public sealed class WechatVerifyFile
{
    /// <summary>The file name exactly as the WeChat console gives it, e.g. <c>MP_verify_AbC123dEf456GhI7.txt</c>.</summary>
    public string Name { get; set; } = "";

    /// <summary>The file's whole content, as the console gives it (the token after MP_verify_).</summary>
    public string Content { get; set; } = "";
}

/// <summary>
/// <c>WechatDomain:VerifyFiles</c>: the files served at the site root so WeChat accepts the domain
/// as a JS-API and OAuth callback domain. Taken from configuration, never from the file system.
/// </summary>
public sealed partial class WechatDomainOptions
{
    public const string SectionName = "WechatDomain";

    public List<WechatVerifyFile> VerifyFiles { get; set; } = [];

    /// <summary>Only WeChat's own pattern: no directories, no dots besides <c>.txt</c>, nothing to traverse.</summary>
    [GeneratedRegex("^MP_verify_[A-Za-z0-9]{1,64}\\.txt$")]
    public static partial Regex FileName();

    [GeneratedRegex("^[A-Za-z0-9]{1,128}$")]
    public static partial Regex FileContent();

    public static string? Problem(WechatDomainOptions o)
    {
        foreach (var file in o.VerifyFiles)
        {
            if (!FileName().IsMatch(file.Name ?? ""))
            {
                return $"WechatDomain:VerifyFiles: '{file.Name}' is not a WeChat verification file name (MP_verify_<letters and digits>.txt).";
            }

            if (!FileContent().IsMatch(file.Content ?? ""))
            {
                return $"WechatDomain:VerifyFiles: the content of {file.Name} must be the 1–128 letters and digits WeChat gives.";
            }
        }

        return o.VerifyFiles.GroupBy(f => f.Name, StringComparer.OrdinalIgnoreCase).FirstOrDefault(g => g.Count() > 1) is { } twice
            ? $"WechatDomain:VerifyFiles: {twice.Key} is configured twice."
            : null;
    }
}

/// <summary>Serves the configured <c>MP_verify_*.txt</c> files at the site root, as plain text.</summary>
public static class WechatDomainEndpoints
{
    public static WebApplicationBuilder AddWechatDomainFiles(this WebApplicationBuilder builder)
    {
        builder.Services.AddOptions<WechatDomainOptions>()
            .BindConfiguration(WechatDomainOptions.SectionName)
            .Validate(o => WechatDomainOptions.Problem(o) is null, "WechatDomain:VerifyFiles: each Name must be MP_verify_<letters and digits>.txt (once) and each Content 1–128 letters and digits.")
            .ValidateOnStart();
        return builder;
    }

    public static IEndpointRouteBuilder MapWechatDomainFiles(this IEndpointRouteBuilder app)
    {
        var options = app.ServiceProvider.GetRequiredService<IOptions<WechatDomainOptions>>().Value;
        foreach (var file in options.VerifyFiles)
        {
            // One literal route per validated name: a request for any other path never reaches this.
            var content = file.Content;
            app.MapGet("/" + file.Name, () => TypedResults.Text(content, "text/plain; charset=utf-8"))
                .ExcludeFromDescription();
        }

        return app;
    }
}
