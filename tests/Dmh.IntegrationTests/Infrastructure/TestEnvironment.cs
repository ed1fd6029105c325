namespace Dmh.IntegrationTests.Infrastructure;

/// <summary>
/// Where the real servers started by <c>./dmh test</c> (or <c>./dmh servers</c>) are: from the
/// environment, else from the <c>.dmh/env</c> file the script writes. Never a mock: a missing server
/// is an error that says how to start it.
/// </summary>
public static class TestEnvironment
{
    private static readonly Lazy<Dictionary<string, string>> FileValues = new(LoadEnvFile);

    public static string MySql => Get("DMH_TEST_MYSQL");

    public static string Redis => Get("DMH_TEST_REDIS");

    public static string TargetMySql => Get("DMH_TEST_TARGET_MYSQL");

    public static string Postgres => Get("DMH_TEST_POSTGRES");

    public static string RepoRoot => RepositoryFiles.Root;

    public static string Get(string name)
    {
        var value = Environment.GetEnvironmentVariable(name);
        if (!string.IsNullOrEmpty(value))
        {
            return value;
        }

        return FileValues.Value.TryGetValue(name, out var fromFile)
            ? fromFile
            : throw new InvalidOperationException($"{name} is not set. Start the servers with './dmh servers' (or run './dmh test').");
    }

    private static Dictionary<string, string> LoadEnvFile()
    {
        var root = RepositoryFiles.TryRoot;
        var file = root is null ? null : Path.Combine(root, ".dmh", "env");
        if (file is null || !File.Exists(file))
        {
            return [];
        }

        return File.ReadAllLines(file)
            .Where(l => l.Contains('=', StringComparison.Ordinal) && !l.StartsWith('#'))
            .Select(l => l.Split('=', 2))
            .ToDictionary(p => p[0], p => p[1]);
    }
}
