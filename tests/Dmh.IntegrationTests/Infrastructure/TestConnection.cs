using System.Net;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Mvc.Testing;
using Microsoft.Extensions.DependencyInjection;

namespace Dmh.IntegrationTests.Infrastructure;

/// <summary>
/// The in-memory test server has no TCP connection: with this, a test says which address a request
/// comes from (<c>X-Test-Peer</c>) and which local port it arrived on (<c>X-Test-Local-Port</c>),
/// set before any of the service's own middleware runs.
/// </summary>
public sealed class TestConnection : IStartupFilter
{
    public const string PeerHeader = "X-Test-Peer";
    public const string LocalPortHeader = "X-Test-Local-Port";

    public Action<IApplicationBuilder> Configure(Action<IApplicationBuilder> next) => app =>
    {
        app.Use((http, nextMiddleware) =>
        {
            if (http.Request.Headers.Remove(PeerHeader, out var peer))
            {
                http.Connection.RemoteIpAddress = IPAddress.Parse(peer.ToString());
            }

            if (http.Request.Headers.Remove(LocalPortHeader, out var port))
            {
                http.Connection.LocalPort = int.Parse(port.ToString(), System.Globalization.CultureInfo.InvariantCulture);
            }

            return nextMiddleware(http);
        });
        next(app);
    };
}

public static class TestConnectionExtensions
{
    public static WebApplicationFactory<T> WithTestConnection<T>(this WebApplicationFactory<T> factory, Action<IServiceCollection>? services = null)
        where T : class =>
        factory.WithWebHostBuilder(b => b.ConfigureServices(s =>
        {
            s.AddTransient<IStartupFilter, TestConnection>();
            services?.Invoke(s);
        }));

    /// <summary>A request from <paramref name="peer"/> (and, if given, on <paramref name="localPort"/>).</summary>
    public static HttpRequestMessage From(this HttpRequestMessage request, string peer, int? localPort = null)
    {
        request.Headers.Add(TestConnection.PeerHeader, peer);
        if (localPort is { } port)
        {
            request.Headers.Add(TestConnection.LocalPortHeader, port.ToString(System.Globalization.CultureInfo.InvariantCulture));
        }

        return request;
    }
}
