using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using Dmh.Chaos;

namespace Dmh.IntegrationTests.Chaos;

/// <summary>The chaos runner's restarts: a service is started again only once the killed one is gone and its port free.</summary>
public sealed class ServiceControlTests
{
    [Fact]
    public async Task A_restart_waits_until_the_old_listener_has_let_go_of_its_port()
    {
        var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        var port = ((IPEndPoint)listener.LocalEndpoint).Port;
        Assert.True(ServiceControl.IsListening(port));

        var waiting = ServiceControl.WaitPortFreeAsync("syncer", port, TimeSpan.FromMinutes(1), default);
        await Task.Delay(300);
        Assert.False(waiting.IsCompleted);

        listener.Stop();
        await waiting;
        Assert.False(ServiceControl.IsListening(port));
    }

    [Fact]
    public async Task A_port_still_taken_after_the_bounded_wait_is_a_clear_error()
    {
        var listener = new TcpListener(IPAddress.Any, 0);
        listener.Start();
        var port = ((IPEndPoint)listener.LocalEndpoint).Port;

        var error = await Assert.ThrowsAsync<TimeoutException>(() => ServiceControl.WaitPortFreeAsync("syncer", port, TimeSpan.FromMilliseconds(200), default));

        Assert.Contains($"syncer: port {port} was still taken", error.Message, StringComparison.Ordinal);
        listener.Stop();
    }

    [Fact]
    public async Task A_killed_process_is_waited_for_until_it_is_gone()
    {
        using var sleeper = Process.Start(new ProcessStartInfo("sleep", "600") { UseShellExecute = false })!;
        Assert.False(ServiceControl.IsGone(sleeper.Id));

        await ServiceControl.KillAsync(sleeper.Id, default);

        Assert.True(ServiceControl.IsGone(sleeper.Id));
        Assert.False(ServiceControl.IsAlive(sleeper.Id));
    }

    [Fact]
    public void A_service_is_waited_for_on_every_port_it_listens_on()
    {
        var ingress = new LaunchSpec("ingress", "/", ["dotnet", "Dmh.Ingress.dll"], new Dictionary<string, string>
        {
            ["Urls"] = "http://127.0.0.1:5080",
            ["Management__Urls"] = "http://127.0.0.1:5086",
            ["WechatPay__NotifyUrl"] = "http://127.0.0.1:5090/notify",
        });

        Assert.Equal([5080, 5086], ingress.ListenPorts);
        Assert.Empty(ingress.With(new Dictionary<string, string> { ["Urls"] = "http://127.0.0.1:0", ["Management__Urls"] = "" }).ListenPorts);
    }
}
