namespace Dmh.TestSupport;

/// <summary>
/// The services' local settings from <c>scripts/services.conf</c>, the file <c>./dmh</c> starts them with:
/// a fixture takes the same keys and fixed values and fills in its own URLs, keys and databases.
/// </summary>
public static class ServiceSettings
{
    private static readonly Lazy<string[]> Lines = new(() =>
        File.ReadAllLines(Path.Combine(RepositoryFiles.Root, "scripts", "services.conf")));

    /// <summary>The settings of <paramref name="section"/> as configuration keys, each <c>{name}</c> taken from <paramref name="values"/>.</summary>
    public static Dictionary<string, string?> Section(string section, IReadOnlyDictionary<string, string> values)
    {
        var settings = new Dictionary<string, string?>();
        var current = "";
        foreach (var line in Lines.Value)
        {
            if (line.Length == 0 || line.StartsWith('#'))
            {
                continue;
            }

            if (line.StartsWith('[') && line.EndsWith(']'))
            {
                current = line[1..^1];
                continue;
            }

            if (current != section)
            {
                continue;
            }

            var (name, value) = (line[..line.IndexOf('=', StringComparison.Ordinal)], line[(line.IndexOf('=', StringComparison.Ordinal) + 1)..]);
            foreach (var (placeholder, filled) in values)
            {
                value = value.Replace("{" + placeholder + "}", filled, StringComparison.Ordinal);
            }

            if (value.Contains('{', StringComparison.Ordinal))
            {
                throw new InvalidOperationException($"scripts/services.conf [{section}] {name}: nothing fills '{value}'.");
            }

            settings[name.Replace("__", ":", StringComparison.Ordinal)] = value;
        }

        return settings.Count > 0 ? settings : throw new InvalidOperationException($"scripts/services.conf has no [{section}].");
    }
}
