using System.Diagnostics;
using System.Net;
using System.Net.Http.Json;
using System.Net.Sockets;
using System.Security.Cryptography.X509Certificates;
using System.Text.Json;
using Dmh.IntegrationTests.Infrastructure;

namespace Dmh.IntegrationTests.Deployment;

/// <summary>
/// deploy/nginx/dmh.conf, run by Debian's nginx (own prefix, port, pid and temp directories; a certificate
/// made here) in front of Ingress, Settlement and the simulator: the core journey over https, and the
/// client address Ingress sees through it.
/// </summary>
public sealed class NginxSite : IAsyncLifetime
{
    // The client connects from another loopback address than nginx's own, so "the client" and "the proxy" differ.
    public static readonly IPAddress ClientAddress = IPAddress.Parse("127.0.0.2");

    // Debian's nginx (scripts/install.sh); /usr/sbin is not on every user's PATH.
    private const string Nginx = "/usr/sbin/nginx";

    private readonly string _dir = Directory.CreateTempSubdirectory("dmh-nginx-").FullName;
    private TestDatabase _db = null!;
    private RunningSystem _system = null!;

    public RunningSystem Services => _system;

    public string AccessLog => Path.Combine(_dir, "access.log");
    private Process _nginx = null!;
    private int _port;
    private X509Certificate2 _certificate = null!;

    public async Task InitializeAsync()
    {
        foreach (var app in new[] { "admin", "h5" })
        {
            Directory.CreateDirectory(Path.Combine(_dir, app));
            await File.WriteAllTextAsync(Path.Combine(_dir, app, "index.html"), $"<!doctype html><title>{app} page</title>");
        }

        _db = await TestDatabase.CreateAsync();
        _system = await RunningSystem.StartAsync(_db, TestKeys.NewRedisPrefix(), new Dictionary<string, string?>
        {
            // As deploy/systemd/dmh-ingress.service: nginx on this host is the one proxy believed.
            ["ForwardedHeaders:KnownProxies:0"] = "127.0.0.1",
            ["Frontends:AdminDist"] = Path.Combine(_dir, "admin"),
            ["Frontends:H5Dist"] = Path.Combine(_dir, "h5"),
        });

        Run("openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "2", "-subj", "/CN=dmh.example.com",
            "-addext", "subjectAltName=DNS:dmh.example.com,IP:127.0.0.1",
            "-keyout", Path.Combine(_dir, "privkey.pem"), "-out", Path.Combine(_dir, "fullchain.pem"));
        _certificate = X509Certificate2.CreateFromPem(await File.ReadAllTextAsync(Path.Combine(_dir, "fullchain.pem")));
        _port = FreePort();
        await File.WriteAllTextAsync(Path.Combine(_dir, "site.conf"), Site(new Uri(_system.IngressUrl).Port));
        await File.WriteAllTextAsync(Path.Combine(_dir, "nginx.conf"), $$"""
            user {{Environment.UserName}};
            worker_processes 1;
            pid {{_dir}}/nginx.pid;
            error_log {{_dir}}/error.log warn;
            events { worker_connections 256; }
            http {
                access_log {{_dir}}/access.log;
                client_body_temp_path {{_dir}}/body;
                proxy_temp_path {{_dir}}/proxy;
                fastcgi_temp_path {{_dir}}/fastcgi;
                uwsgi_temp_path {{_dir}}/uwsgi;
                scgi_temp_path {{_dir}}/scgi;
                include {{_dir}}/site.conf;
            }
            """);
        // -e: the error log before the configuration is read (Debian's default is /var/log/nginx, root's).
        string[] options = ["-p", _dir, "-e", Path.Combine(_dir, "error.log"), "-c", Path.Combine(_dir, "nginx.conf")];
        Run(Nginx, ["-t", .. options]);
        _nginx = Process.Start(Nginx, [.. options, "-g", "daemon off;"]);
        await WechatPay.WechatPayFixture.WaitUntilAsync(async () =>
        {
            Assert.False(_nginx.HasExited, "nginx exited: " + await File.ReadAllTextAsync(Path.Combine(_dir, "error.log")));
            using var probe = new TcpClient();
            try
            {
                await probe.ConnectAsync(IPAddress.Loopback, _port);
                return true;
            }
            catch (SocketException)
            {
                return false;
            }
        });
    }

    public async Task DisposeAsync()
    {
        if (_nginx is { HasExited: false })
        {
            // nginx stops its workers on TERM (what `nginx -s stop` sends).
            Run("kill", "-TERM", _nginx.Id.ToString(System.Globalization.CultureInfo.InvariantCulture));
            await _nginx.WaitForExitAsync();
        }

        _nginx?.Dispose();
        _certificate?.Dispose();
        await _system.DisposeAsync();
        await _db.DisposeAsync();
        Directory.Delete(_dir, recursive: true);
    }

    /// <summary>deploy/nginx/dmh.conf with this test's port, certificate and Ingress; each replaced line must exist.</summary>
    private string Site(int ingressPort)
    {
        var site = File.ReadAllText(Path.Combine(RepositoryFiles.Root, "deploy", "nginx", "dmh.conf"));
        string Replace(string text, string from, string to)
        {
            Assert.Contains(from, text, StringComparison.Ordinal);
            return text.Replace(from, to, StringComparison.Ordinal);
        }

        site = Replace(site, "server 127.0.0.1:5080;", $"server 127.0.0.1:{ingressPort};");
        site = Replace(site, "listen 443 ssl http2;", $"listen 127.0.0.1:{_port} ssl http2;");
        site = Replace(site, "listen [::]:443 ssl http2;", "");
        site = Replace(site, "listen 80;", $"listen 127.0.0.1:{FreePort()};");
        site = Replace(site, "listen [::]:80;", "");
        site = Replace(site, "/etc/letsencrypt/live/dmh.example.com/fullchain.pem", Path.Combine(_dir, "fullchain.pem"));
        site = Replace(site, "/etc/letsencrypt/live/dmh.example.com/privkey.pem", Path.Combine(_dir, "privkey.pem"));
        return site;
    }

    public HttpClient Client()
    {
        var handler = new SocketsHttpHandler
        {
            AllowAutoRedirect = false,
            ConnectCallback = async (context, ct) =>
            {
                var socket = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
                socket.Bind(new IPEndPoint(ClientAddress, 0));
                await socket.ConnectAsync(IPAddress.Loopback, context.DnsEndPoint.Port, ct);
                return new NetworkStream(socket, ownsSocket: true);
            },
        };
        // Trust exactly the certificate this test made.
        handler.SslOptions.RemoteCertificateValidationCallback = (_, cert, _, _) => cert is not null && cert.GetCertHashString() == _certificate.GetCertHashString();
        return new HttpClient(handler) { BaseAddress = new Uri($"https://dmh.example.com:{_port}") };
    }

    private static void Run(string file, params string[] args)
    {
        using var process = Process.Start(new ProcessStartInfo(file, args) { RedirectStandardError = true, RedirectStandardOutput = true })!;
        var error = process.StandardError.ReadToEndAsync();
        var output = process.StandardOutput.ReadToEnd();
        process.WaitForExit();
        Assert.True(process.ExitCode == 0, $"{file} {string.Join(' ', args)}: {output}{error.Result}");
    }

    private static int FreePort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }
}

/// <summary>nginx with the site's configuration in front of the running services.</summary>
public sealed class NginxTests(NginxSite f) : IClassFixture<NginxSite>
{
    [Fact]
    public async Task The_core_journey_runs_over_https_and_Ingress_sees_the_client_not_the_proxy_nor_a_forged_header()
    {
        using var site = f.Client();
        // A client's own X-Forwarded-For is replaced by nginx, never believed.
        site.DefaultRequestHeaders.Add("X-Forwarded-For", "203.0.113.9");

        var paid = await CoreJourney.RunAsync(site, f.Services.Sim, "13912340001");

        var order = await f.Services.Sim.GetFromJsonAsync<JsonElement>($"/sim/orders/{paid.OutTradeNo}");
        Assert.Equal("SUCCESS", order.GetProperty("state").GetString());
        Assert.Equal(NginxSite.ClientAddress.ToString(), order.GetProperty("payerClientIp").GetString());
        Assert.Contains(" 201 ", await File.ReadAllTextAsync(f.AccessLog), StringComparison.Ordinal);
    }

    [Fact]
    public async Task The_pages_are_served_and_the_monitoring_endpoints_are_not_public()
    {
        using var site = f.Client();

        Assert.Contains("admin page", await site.GetStringAsync("/admin/"), StringComparison.Ordinal);
        Assert.Contains("h5 page", await site.GetStringAsync("/h5/"), StringComparison.Ordinal);
        var root = await site.GetAsync("/");
        Assert.Equal(HttpStatusCode.Redirect, root.StatusCode);
        Assert.Equal("/h5/", root.Headers.Location!.AbsolutePath);
        foreach (var path in new[] { "/metrics", "/readyz", "/openapi/v1.json" })
        {
            Assert.Equal(HttpStatusCode.NotFound, (await site.GetAsync(path)).StatusCode);
        }

        // HSTS: Ingress sends it because nginx says the request came over https.
        Assert.True((await site.GetAsync("/admin/")).Headers.Contains("Strict-Transport-Security"));
    }

    [Fact]
    public async Task A_body_over_the_limit_is_refused_by_nginx()
    {
        using var site = f.Client();

        var response = await site.PostAsync("/api/v1/uploads", new ByteArrayContent(new byte[4 * 1024 * 1024]));

        Assert.Equal(HttpStatusCode.RequestEntityTooLarge, response.StatusCode);
        Assert.Contains("nginx", await response.Content.ReadAsStringAsync(), StringComparison.Ordinal);
    }
}
