using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;

namespace Dmh.Platform.Hosting;

/// <summary>The listener for monitoring (configuration section <c>Management</c>).</summary>
public sealed partial class ManagementOptions
{
    public const string SectionName = "Management";

    /// <summary>
    /// URLs (separated by <c>;</c>, each with an explicit port) of a second listener that alone serves
    /// <c>/metrics</c> and <c>/openapi</c>; the health endpoints answer on both.
    /// </summary>
    public string Urls { get; set; } = "";

    /// <summary>The ports of <see cref="Urls"/>; empty if any URL is not http(s)://host:port.</summary>
    public IReadOnlySet<int> Ports()
    {
        var ports = new HashSet<int>();
        foreach (var url in Split(Urls))
        {
            var match = UrlWithPort().Match(url);
            if (!match.Success || !int.TryParse(match.Groups[1].Value, System.Globalization.CultureInfo.InvariantCulture, out var port) || port is < 1 or > 65535)
            {
                return new HashSet<int>();
            }

            ports.Add(port);
        }

        return ports;
    }

    internal static string[] Split(string? urls) =>
        (urls ?? "").Split(';', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);

    // Server URL syntax: "+" and "*" stand for any address; an IPv6 host is bracketed.
    [System.Text.RegularExpressions.GeneratedRegex(@"^https?://(?:\[[0-9A-Fa-f:.]+\]|[^:/\[\]]+):([0-9]{1,5})/?$")]
    private static partial System.Text.RegularExpressions.Regex UrlWithPort();
}

/// <summary>Where an endpoint answers once a management port is configured.</summary>
public sealed class ManagementEndpointMetadata(bool alsoPublic)
{
    public static readonly ManagementEndpointMetadata Only = new(false);
    public static readonly ManagementEndpointMetadata AlsoPublic = new(true);

    /// <summary>True for the health endpoints, which monitoring and start-up scripts read on either port.</summary>
    public bool IsAlsoPublic { get; } = alsoPublic;
}

/// <summary>
/// Keeps <c>/metrics</c> and <c>/openapi</c> off the public port: the service listens on its
/// <c>Urls</c> and on <c>Management:Urls</c>, and answers each endpoint only on its side. The side is
/// judged by the port the connection arrived on, never by the Host header, which a client chooses.
/// </summary>
public static class ManagementPort
{
    public static TBuilder ManagementOnly<TBuilder>(this TBuilder builder)
        where TBuilder : IEndpointConventionBuilder => builder.WithMetadata(ManagementEndpointMetadata.Only);

    public static WebApplicationBuilder AddManagementPort(this WebApplicationBuilder builder)
    {
        builder.Services.AddOptions<ManagementOptions>()
            .BindConfiguration(ManagementOptions.SectionName)
            .Validate(o => o.Ports().Count > 0,
                "Management:Urls needs at least one absolute http(s) URL with an explicit, non-zero port (e.g. http://127.0.0.1:5085).")
            .ValidateOnStart();
        return builder;
    }

    /// <summary>Adds the management URLs to the server's addresses and splits the endpoints between the ports.</summary>
    public static WebApplication UseManagementPort(this WebApplication app)
    {
        var options = app.Services.GetRequiredService<IOptions<ManagementOptions>>().Value;
        var ports = options.Ports();
        ListenAlsoOn(app, options.Urls);
        app.Use((http, next) =>
        {
            var side = http.GetEndpoint()?.Metadata.GetMetadata<ManagementEndpointMetadata>();
            var onManagementPort = ports.Contains(http.Connection.LocalPort);
            var allowed = side is null ? !onManagementPort : side.IsAlsoPublic || onManagementPort;
            if (allowed)
            {
                return next(http);
            }

            http.SetEndpoint(null);
            http.Response.StatusCode = StatusCodes.Status404NotFound;
            return Task.CompletedTask;
        });
        return app;
    }

    /// <summary>
    /// The server reads its URLs from configuration only while it has none given in code, so this adds
    /// the configured public URLs (as the host would: <c>urls</c>, else <c>http_ports</c>/<c>https_ports</c>)
    /// and then the management ones. In-memory test servers have no addresses to add to.
    /// </summary>
    private static void ListenAlsoOn(WebApplication app, string managementUrls)
    {
        var addresses = app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()?.Addresses;
        if (addresses is null || addresses.IsReadOnly)
        {
            return;
        }

        if (addresses.Count == 0)
        {
            var configured = ManagementOptions.Split(app.Configuration[WebHostDefaults.ServerUrlsKey]);
            if (configured.Length == 0)
            {
                configured = [.. Ports(app.Configuration[WebHostDefaults.HttpPortsKey], "http"), .. Ports(app.Configuration[WebHostDefaults.HttpsPortsKey], "https")];
            }

            foreach (var url in configured.Length == 0 ? ["http://localhost:5000"] : configured)
            {
                addresses.Add(url);
            }
        }

        foreach (var url in ManagementOptions.Split(managementUrls))
        {
            addresses.Add(url);
        }
    }

    private static IEnumerable<string> Ports(string? ports, string scheme) =>
        ManagementOptions.Split(ports).Select(port => $"{scheme}://*:{port}");
}
