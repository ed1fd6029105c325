using System.Diagnostics;

namespace Dmh.IntegrationTests.Deployment;

/// <summary>deploy/systemd: systemd's own checker accepts every unit, and each is hardened.</summary>
public sealed class SystemdUnitTests
{
    private static readonly string[] Units = Directory.GetFiles(Path.Combine(RepositoryFiles.Root, "deploy", "systemd"), "*.service");

    public static TheoryData<string> UnitNames => new(Units.Select(u => Path.GetFileName(u)).Order(StringComparer.Ordinal));

    [Fact]
    public void There_is_a_unit_for_each_service_and_the_simulator()
    {
        Assert.Equal(["dmh-ingress.service", "dmh-settlement.service", "dmh-syncer.service", "dmh-wechatsim.service"], Units.Select(u => Path.GetFileName(u)).Order(StringComparer.Ordinal));
    }

    [Theory]
    [MemberData(nameof(UnitNames))]
    public void Systemd_analyze_verify_accepts_the_unit_without_a_warning(string unit)
    {
        var (code, output) = Verify(File.ReadAllText(Path.Combine(RepositoryFiles.Root, "deploy", "systemd", unit)), unit);

        Assert.True(code == 0 && output.Length == 0, $"systemd-analyze verify {unit}: exit {code}\n{output}");
    }

    [Fact]
    public void The_check_catches_a_value_systemd_would_ignore()
    {
        var text = File.ReadAllText(Path.Combine(RepositoryFiles.Root, "deploy", "systemd", "dmh-ingress.service"));

        var (_, output) = Verify(text.Replace("ProtectSystem=strict", "ProtectSystem=strictly", StringComparison.Ordinal), "dmh-ingress.service");

        Assert.Contains("strictly", output, StringComparison.Ordinal);
    }

    [Theory]
    [MemberData(nameof(UnitNames))]
    public void The_unit_runs_as_its_own_user_with_the_system_read_only_and_no_new_privileges(string unit)
    {
        var settings = Deployments.UnitSettings(Path.Combine(RepositoryFiles.Root, "deploy", "systemd", unit), "Service")
            .GroupBy(s => s.Key).ToDictionary(g => g.Key, g => g.Last().Value, StringComparer.Ordinal);

        Assert.Equal("dmh", settings["User"]);
        Assert.Equal("yes", settings["NoNewPrivileges"]);
        Assert.Equal("strict", settings["ProtectSystem"]);
        Assert.Equal("yes", settings["ProtectHome"]);
        Assert.Equal("yes", settings["PrivateTmp"]);
        Assert.Equal("", settings["CapabilityBoundingSet"]);
        Assert.StartsWith("/etc/dmh/", settings["EnvironmentFile"], StringComparison.Ordinal);
    }

    private static (int Code, string Output) Verify(string text, string name)
    {
        var dir = Directory.CreateTempSubdirectory("dmh-units-").FullName;
        try
        {
            // ExecStart must name an executable here: the units' /usr/bin/dotnet is where Microsoft's Debian package puts it.
            var dotnet = new[] { "/usr/bin/dotnet" }.Concat((Environment.GetEnvironmentVariable("PATH") ?? "").Split(':').Select(p => Path.Combine(p, "dotnet")))
                .First(File.Exists);
            var file = Path.Combine(dir, name);
            File.WriteAllText(file, text.Replace("/usr/bin/dotnet", dotnet, StringComparison.Ordinal));
            using var process = Process.Start(new ProcessStartInfo("systemd-analyze", ["verify", file]) { RedirectStandardOutput = true, RedirectStandardError = true })!;
            var error = process.StandardError.ReadToEndAsync();
            var output = process.StandardOutput.ReadToEnd();
            process.WaitForExit();
            return (process.ExitCode, (output + error.Result).Trim());
        }
        finally
        {
            Directory.Delete(dir, recursive: true);
        }
    }
}
