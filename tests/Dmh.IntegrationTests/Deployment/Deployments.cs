using System.Diagnostics;
using System.Reflection;
using System.Text.RegularExpressions;
using YamlDotNet.Core;
using YamlDotNet.Serialization;

namespace Dmh.IntegrationTests.Deployment;

/// <summary>One DMH service as a deployment file starts it: its program and the environment it sees.</summary>
public sealed record DeployedService(string Source, string Name, Assembly Program, string AppSettingsFile, Dictionary<string, string> Environment)
{
    public override string ToString() => $"{Source}: {Name}";

    /// <summary>The same service without <paramref name="name"/> (as if a deployment forgot it).</summary>
    public DeployedService Without(string name)
    {
        var environment = new Dictionary<string, string>(Environment, StringComparer.Ordinal);
        return environment.Remove(name) ? this with { Environment = environment } : throw new ArgumentException($"{this} has no {name}.");
    }
}

/// <summary>
/// Reads compose.yaml and deploy/systemd/*.service the way Docker Compose and systemd would, and gives each
/// DMH service's environment with container or server paths mapped onto a scratch directory (volumes, /etc/dmh)
/// whose keys the real <c>./dmh keys</c> made.
/// </summary>
public static partial class Deployments
{
    public static readonly Dictionary<string, Assembly> Programs = new(StringComparer.Ordinal)
    {
        ["Dmh.Ingress"] = typeof(Dmh.Ingress.EntryPoint).Assembly,
        ["Dmh.Settlement"] = typeof(Dmh.Settlement.EntryPoint).Assembly,
        ["Dmh.Syncer"] = typeof(Dmh.Syncer.EntryPoint).Assembly,
        ["Dmh.WechatSim"] = typeof(Dmh.WechatSim.EntryPoint).Assembly,
    };

    public static string AppSettings(string project) => Path.Combine(RepositoryFiles.Root, project, "appsettings.json");

    /// <summary>compose.yaml's services as parsed (merge keys applied).</summary>
    public static Dictionary<string, Dictionary<object, object>> ComposeServices() =>
        Map(ReadYaml(Path.Combine(RepositoryFiles.Root, "compose.yaml"))["services"]).ToDictionary(s => (string)s.Key, s => Map(s.Value), StringComparer.Ordinal);

    /// <summary>The DMH services of compose.yaml. <paramref name="scratch"/> stands in for the volumes.</summary>
    public static List<DeployedService> Compose(string scratch)
    {
        var compose = ReadYaml(Path.Combine(RepositoryFiles.Root, "compose.yaml"));
        var services = Map(compose["services"]);
        var volumes = Path.Combine(scratch, "volumes");
        var result = new List<DeployedService>();

        // The one-shot keys service first, as depends_on orders it: its command, run here on the checkout.
        var keys = Map(services["keys"]);
        var keysCommand = List(keys["entrypoint"]);
        Assert.Equal(["/opt/dmh/dmh", "keys", "/keys"], keysCommand);
        var keysMounts = Mounts(keys, volumes);
        var keysEnvironment = Environment(keys, "keys");
        keysEnvironment.Remove("DMH_SYNCER_DLL"); // the image's path; here the checkout's build
        RunKeys(MapPath("/keys", keysMounts), keysEnvironment);

        foreach (var (name, value) in services)
        {
            var service = Map(value);
            if (!service.TryGetValue("build", out var build) || !Map(Map(build)["args"]).TryGetValue("PROJECT", out var projectValue))
            {
                continue;
            }

            var project = (string)projectValue;
            if ((string)name == "keys")
            {
                continue;
            }

            var mounts = Mounts(service, volumes);
            var environment = DockerfileEnvironment(project);
            foreach (var (key, setting) in Environment(service, (string)name))
            {
                environment[key] = setting;
            }

            AddEnvironmentFile(environment, environment.GetValueOrDefault("DMH_ENV_FILE"), path => MapPath(path, mounts));
            result.Add(new DeployedService("compose.yaml", (string)name, Programs[project], AppSettings(project), MapPaths(environment, mounts)));
        }

        return result;
    }

    /// <summary>The units of deploy/systemd; /etc/dmh and /var/lib/dmh are directories under <paramref name="scratch"/>.</summary>
    public static List<DeployedService> Systemd(string scratch)
    {
        var mounts = new List<(string Target, string Source)>
        {
            ("/etc/dmh", Path.Combine(scratch, "etc-dmh")),
            ("/var/lib/dmh", Path.Combine(scratch, "var-lib-dmh")),
        };
        // As docs/OPERATIONS.md installs it: sudo ./dmh keys /etc/dmh
        RunKeys(mounts[0].Source, new Dictionary<string, string>());
        Directory.CreateDirectory(mounts[1].Source);
        var result = new List<DeployedService>();
        foreach (var file in Directory.GetFiles(Path.Combine(RepositoryFiles.Root, "deploy", "systemd"), "dmh-*.service").Order(StringComparer.Ordinal))
        {
            var environment = new Dictionary<string, string>(StringComparer.Ordinal);
            string? project = null;
            foreach (var (key, value) in UnitSettings(file, "Service"))
            {
                switch (key)
                {
                    case "Environment":
                        foreach (var assignment in SplitWords(value))
                        {
                            environment[assignment[..assignment.IndexOf('=', StringComparison.Ordinal)]] = assignment[(assignment.IndexOf('=', StringComparison.Ordinal) + 1)..];
                        }

                        break;
                    case "EnvironmentFile":
                        AddEnvironmentFile(environment, value.TrimStart('-'), path => MapPath(path, mounts));
                        break;
                    case "ExecStart":
                        project = Path.GetFileNameWithoutExtension(SplitWords(value)[1]);
                        break;
                }
            }

            Assert.NotNull(project);
            result.Add(new DeployedService(Path.GetFileName(file), Path.GetFileNameWithoutExtension(file), Programs[project], AppSettings(project), MapPaths(environment, mounts)));
        }

        return result;
    }

    /// <summary>[Section] Key=Value pairs of a unit file, in order (comments and continuation lines as systemd reads them).</summary>
    public static List<(string Key, string Value)> UnitSettings(string file, string section)
    {
        var settings = new List<(string, string)>();
        var current = "";
        var text = File.ReadAllText(file).Replace("\\\n", " ", StringComparison.Ordinal);
        foreach (var raw in text.Split('\n'))
        {
            var line = raw.Trim();
            if (line.Length == 0 || line[0] is '#' or ';')
            {
                continue;
            }

            if (line[0] == '[')
            {
                current = line.Trim('[', ']');
                continue;
            }

            var equals = line.IndexOf('=', StringComparison.Ordinal);
            if (current == section && equals > 0)
            {
                settings.Add((line[..equals].Trim(), line[(equals + 1)..].Trim()));
            }
        }

        return settings;
    }

    /// <summary>Runs the checkout's <c>./dmh keys DIR</c>, the code compose.yaml's keys service and the install guide run.</summary>
    public static void RunKeys(string dir, IReadOnlyDictionary<string, string> environment)
    {
        var start = new ProcessStartInfo("bash", [Path.Combine(RepositoryFiles.Root, "dmh"), "keys", dir])
        {
            RedirectStandardError = true,
            RedirectStandardOutput = true,
        };
        foreach (var (key, value) in environment)
        {
            start.Environment[key] = value;
        }

        using var process = Process.Start(start)!;
        var error = process.StandardError.ReadToEndAsync();
        var output = process.StandardOutput.ReadToEnd();
        process.WaitForExit();
        Assert.True(process.ExitCode == 0, $"./dmh keys {dir} failed: {output}{error.Result}");
    }

    /// <summary>NAME=VALUE lines as both readers take them (deploy/docker/start.sh, systemd's EnvironmentFile): no quotes, no expansion.</summary>
    public static void AddEnvironmentFile(Dictionary<string, string> environment, string? containerPath, Func<string, string> map)
    {
        if (containerPath is null)
        {
            return;
        }

        var path = map(containerPath);
        Assert.True(File.Exists(path), $"the settings file {containerPath} is not there ({path})");
        foreach (var line in File.ReadAllLines(path))
        {
            if (line.Length == 0 || line.StartsWith('#'))
            {
                continue;
            }

            Assert.DoesNotMatch("[\"'\\\\$`]", line);
            var name = line[..line.IndexOf('=', StringComparison.Ordinal)];
            Assert.False(environment.ContainsKey(name), $"{name} is set both in {containerPath} and by the deployment: one of them would silently win");
            environment[name] = line[(name.Length + 1)..];
        }
    }

    private static Dictionary<string, string> DockerfileEnvironment(string project)
    {
        // The final stage's ENV lines, with the build argument PROJECT filled in.
        var text = File.ReadAllText(Path.Combine(RepositoryFiles.Root, "Dockerfile")).Replace("\\\n", " ", StringComparison.Ordinal);
        var last = text[text.LastIndexOf("\nFROM ", StringComparison.Ordinal)..];
        var environment = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (var line in last.Split('\n').Where(l => l.StartsWith("ENV ", StringComparison.Ordinal)))
        {
            foreach (var pair in SplitWords(line[4..]))
            {
                var equals = pair.IndexOf('=', StringComparison.Ordinal);
                environment[pair[..equals]] = pair[(equals + 1)..].Replace("$PROJECT", project, StringComparison.Ordinal);
            }
        }

        return environment;
    }

    private static Dictionary<string, string> Environment(Dictionary<object, object> service, string name)
    {
        var environment = new Dictionary<string, string>(StringComparer.Ordinal);
        if (!service.TryGetValue("environment", out var value))
        {
            return environment;
        }

        IEnumerable<(string, string)> pairs = value is List<object> list
            ? list.Select(o => (string)o).Select(s => (s[..s.IndexOf('=', StringComparison.Ordinal)], s[(s.IndexOf('=', StringComparison.Ordinal) + 1)..]))
            : Map(value).Select(p => ((string)p.Key, p.Value as string ?? ""));
        foreach (var (key, setting) in pairs)
        {
            environment[key] = Interpolate(setting, $"{name}.{key}");
        }

        return environment;
    }

    /// <summary>Compose's ${VAR}, ${VAR:-default}, ${VAR:?error} and $$ with no .env and no variable set: the file must start as it is.</summary>
    public static string Interpolate(string value, string where) =>
        Variable().Replace(value, m =>
        {
            if (m.Value == "$$")
            {
                return "$";
            }

            Assert.True(m.Groups["op"].Value is ":-" or "-", $"{where}: ${{{m.Groups["name"].Value}{m.Groups["op"].Value}…}} needs a variable set (compose.yaml must start without a .env)");
            return m.Groups["default"].Value;
        });

    [GeneratedRegex(@"\$\$|\$\{(?<name>[A-Za-z_][A-Za-z0-9_]*)(?<op>:?[-?])?(?<default>[^}]*)\}")]
    private static partial Regex Variable();

    private static List<(string Target, string Source)> Mounts(Dictionary<object, object> service, string volumes)
    {
        var mounts = new List<(string, string)>();
        if (!service.TryGetValue("volumes", out var value))
        {
            return mounts;
        }

        foreach (var volume in List(value))
        {
            var parts = volume.Split(':');
            var source = parts[0].StartsWith('.') ? Path.GetFullPath(Path.Combine(RepositoryFiles.Root, parts[0])) : Path.Combine(volumes, parts[0]);
            Directory.CreateDirectory(parts[0].StartsWith('.') && !Directory.Exists(source) ? Path.GetDirectoryName(source)! : source);
            mounts.Add((parts[1], source));
        }

        return mounts;
    }

    private static string MapPath(string path, List<(string Target, string Source)> mounts)
    {
        foreach (var (target, source) in mounts.OrderByDescending(m => m.Target.Length))
        {
            if (path == target || path.StartsWith(target + "/", StringComparison.Ordinal))
            {
                return source + path[target.Length..];
            }
        }

        return path;
    }

    private static Dictionary<string, string> MapPaths(Dictionary<string, string> environment, List<(string Target, string Source)> mounts) =>
        environment.ToDictionary(e => e.Key, e => e.Value.StartsWith('/') ? MapPath(e.Value, mounts) : e.Value, StringComparer.Ordinal);

    private static List<string> SplitWords(string value) =>
        Regex.Matches(value, "\"([^\"]*)\"|(\\S+)").Select(m => m.Groups[1].Success ? m.Groups[1].Value : m.Groups[2].Value).ToList();

    private static Dictionary<object, object> ReadYaml(string file)
    {
        using var reader = new StringReader(File.ReadAllText(file));
        // MergingParser: the <<: *anchor merge keys compose.yaml uses.
        return new DeserializerBuilder().Build().Deserialize<Dictionary<object, object>>(new MergingParser(new Parser(reader)));
    }

    private static Dictionary<object, object> Map(object value) => (Dictionary<object, object>)value;

    private static List<string> List(object value) => ((List<object>)value).Select(o => (string)o).ToList();
}
