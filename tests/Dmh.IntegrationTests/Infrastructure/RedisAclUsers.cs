using System.Text.RegularExpressions;
using StackExchange.Redis;

namespace Dmh.IntegrationTests.Infrastructure;

/// <summary>
/// The service users of redis/users.acl (the file ./dmh and compose.yaml load), created for one test
/// key prefix under names of their own, so a test runs real code as a least-privilege user without
/// touching the server's own users. Dispose deletes them.
/// </summary>
public sealed partial class RedisAclUsers : IAsyncDisposable
{
    private readonly IConnectionMultiplexer _admin;
    private readonly Dictionary<string, string> _names = [];
    private readonly string _password = "t-" + Guid.NewGuid().ToString("N");

    private RedisAclUsers(IConnectionMultiplexer admin) => _admin = admin;

    /// <summary>Creates the ingress, settlement and syncer users of the template for keys under <paramref name="prefix"/>.</summary>
    public static async Task<RedisAclUsers> CreateAsync(IConnectionMultiplexer admin, string prefix)
    {
        var users = new RedisAclUsers(admin);
        var tag = Guid.NewGuid().ToString("N")[..8];
        var template = await File.ReadAllTextAsync(Path.Combine(TestEnvironment.RepoRoot, "redis", "users.acl"));
        foreach (var line in template.Split('\n').Select(l => l.Trim()).Where(l => l.StartsWith("user dmh-", StringComparison.Ordinal)))
        {
            var rules = line.Replace("{prefix}", prefix, StringComparison.Ordinal);
            var name = rules.Split(' ')[1]["dmh-".Length..];
            if (name == "admin")
            {
                continue;
            }

            rules = PasswordPlaceholder().Replace(rules, ">" + users._password);
            var args = new List<object> { "SETUSER", $"test-{tag}-{name}" };
            args.AddRange(Arguments(rules[(rules.IndexOf(' ', "user ".Length) + 1)..]));
            await admin.GetDatabase().ExecuteAsync("ACL", args);
            users._names[name] = $"test-{tag}-{name}";
        }

        return users;
    }

    /// <summary>A configuration string for <paramref name="service"/>'s user (ingress, settlement, syncer).</summary>
    public string Configuration(string service)
    {
        var options = ConfigurationOptions.Parse(TestEnvironment.Redis);
        options.User = _names[service];
        options.Password = _password;
        return options.ToString(includePassword: true);
    }

    public async Task<ConnectionMultiplexer> ConnectAsync(string service)
    {
        var options = ConfigurationOptions.Parse(Configuration(service));
        options.TieBreaker = "";
        options.ConfigurationChannel = "";
        return await ConnectionMultiplexer.ConnectAsync(options);
    }

    public async ValueTask DisposeAsync()
    {
        foreach (var name in _names.Values)
        {
            await _admin.GetDatabase().ExecuteAsync("ACL", "DELUSER", name);
        }
    }

    /// <summary>Splits on spaces, keeping each parenthesised selector as one argument, as ACL SETUSER wants it.</summary>
    private static IEnumerable<string> Arguments(string rules)
    {
        var depth = 0;
        var current = new System.Text.StringBuilder();
        foreach (var c in rules)
        {
            depth += c == '(' ? 1 : c == ')' ? -1 : 0;
            if (c == ' ' && depth == 0)
            {
                if (current.Length > 0)
                {
                    yield return current.ToString();
                    current.Clear();
                }

                continue;
            }

            current.Append(c);
        }

        if (current.Length > 0)
        {
            yield return current.ToString();
        }
    }

    [GeneratedRegex(@"\{password:[a-z]+\}")]
    private static partial Regex PasswordPlaceholder();
}
