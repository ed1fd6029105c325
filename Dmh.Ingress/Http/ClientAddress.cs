using System.Net;
using Microsoft.AspNetCore.HttpOverrides;
using Microsoft.Extensions.Options;

namespace Dmh.Ingress.Http;

/// <summary>
/// The reverse proxies whose <c>X-Forwarded-For</c>/<c>X-Forwarded-Proto</c> Ingress believes
/// (configuration section <c>ForwardedHeaders</c>). Empty (the default): the headers are ignored and
/// the client is the TCP peer.
/// </summary>
public sealed class ProxyOptions
{
    public const string SectionName = "ForwardedHeaders";

    /// <summary>Proxy addresses, e.g. <c>10.0.0.5</c>.</summary>
    public string[] KnownProxies { get; set; } = [];

    /// <summary>Proxy networks in CIDR notation, e.g. <c>10.0.0.0/24</c>.</summary>
    public string[] KnownNetworks { get; set; } = [];

    public bool Any => KnownProxies.Length > 0 || KnownNetworks.Length > 0;
}

/// <summary>
/// The client's address: the TCP peer, or what a configured proxy forwarded. Rate limits, the admin
/// login throttle and WeChat H5 prepay's <c>payer_client_ip</c> all read <c>Connection.RemoteIpAddress</c>,
/// which the forwarded-headers middleware replaces only for requests from a known proxy.
/// </summary>
public static class ClientAddress
{
    public static WebApplicationBuilder AddClientAddress(this WebApplicationBuilder builder)
    {
        builder.Services.AddOptions<ProxyOptions>()
            .BindConfiguration(ProxyOptions.SectionName)
            .Validate(o => o.KnownProxies.All(p => IPAddress.TryParse(p, out _)),
                "ForwardedHeaders:KnownProxies must be IP addresses.")
            .Validate(o => o.KnownNetworks.All(n => System.Net.IPNetwork.TryParse(n, out _)),
                "ForwardedHeaders:KnownNetworks must be networks in CIDR notation (e.g. 10.0.0.0/24).")
            .ValidateOnStart();
        builder.Services.AddOptions<ForwardedHeadersOptions>().Configure<IOptions<ProxyOptions>>((o, proxies) =>
        {
            o.ForwardedHeaders = ForwardedHeaders.XForwardedFor | ForwardedHeaders.XForwardedProto;
            // ASP.NET Core trusts loopback by default; only what is configured counts here.
            o.KnownProxies.Clear();
            o.KnownIPNetworks.Clear();
            foreach (var proxy in proxies.Value.KnownProxies)
            {
                o.KnownProxies.Add(IPAddress.Parse(proxy));
            }

            foreach (var network in proxies.Value.KnownNetworks)
            {
                o.KnownIPNetworks.Add(System.Net.IPNetwork.Parse(network));
            }

            // Walk back through X-Forwarded-For as long as each hop is a known proxy (a chain of them).
            o.ForwardLimit = null;
        });
        return builder;
    }

    /// <summary>First in the pipeline. Without configured proxies it adds nothing: the middleware would trust every peer.</summary>
    public static WebApplication UseClientAddress(this WebApplication app)
    {
        if (app.Services.GetRequiredService<IOptions<ProxyOptions>>().Value.Any)
        {
            app.UseForwardedHeaders();
        }

        return app;
    }

    /// <summary>The client's address as text, IPv4-mapped IPv6 shown as IPv4.</summary>
    public static string Of(HttpContext http)
    {
        var ip = http.Connection.RemoteIpAddress;
        return (ip?.IsIPv4MappedToIPv6 == true ? ip.MapToIPv4() : ip ?? IPAddress.None).ToString();
    }
}
