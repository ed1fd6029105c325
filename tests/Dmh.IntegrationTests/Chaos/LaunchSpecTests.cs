using Dmh.Chaos;

namespace Dmh.IntegrationTests.Chaos;

/// <summary>The chaos suite restarts a service as it was started: command, directory and settings from /proc.</summary>
public sealed class LaunchSpecTests
{
    [Fact]
    public void A_running_process_is_captured_with_its_command_directory_and_environment()
    {
        var spec = LaunchSpec.Capture("self", Environment.ProcessId);

        Assert.Equal(Environment.GetCommandLineArgs().Length > 0, spec.Command.Count > 0);
        Assert.Equal(Path.GetFullPath(Environment.CurrentDirectory).TrimEnd('/'), spec.WorkingDirectory.TrimEnd('/'));
        Assert.Equal(Environment.GetEnvironmentVariable("PATH"), spec.Environment["PATH"]);
    }

    [Fact]
    public void Settings_are_overridden_and_a_server_port_rewritten_to_a_proxy()
    {
        var spec = new LaunchSpec("settlement", "/", ["dotnet", "Dmh.Settlement.dll"], new Dictionary<string, string>
        {
            ["Redis__Configuration"] = "127.0.0.1:6390,user=dmh-settlement,password=x",
            ["Database__ConnectionString"] = "Server=127.0.0.1;Port=3307;User ID=dmh;Database=dmh",
            ["Urls"] = "http://127.0.0.1:5081",
        });

        var changed = spec.Rewrite("127.0.0.1:6390,", "127.0.0.1:40001,").Rewrite("Port=3307;", "Port=40002;")
            .With(new Dictionary<string, string> { ["Settlement__Faults__ExitAfterCommitCount"] = "3" });

        Assert.Equal("127.0.0.1:40001,user=dmh-settlement,password=x", changed.Environment["Redis__Configuration"]);
        Assert.Equal("Server=127.0.0.1;Port=40002;User ID=dmh;Database=dmh", changed.Environment["Database__ConnectionString"]);
        Assert.Equal("3", changed.Environment["Settlement__Faults__ExitAfterCommitCount"]);
        Assert.Equal(5081, changed.HttpPort);
        Assert.Equal("127.0.0.1:6390,user=dmh-settlement,password=x", spec.Environment["Redis__Configuration"]);
    }
}
