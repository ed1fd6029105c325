namespace Dmh.TestSupport;

/// <summary>Files of this checkout (found from the test binaries up to <c>Dmh.sln</c>), so tests read the documented originals instead of copies.</summary>
public static class RepositoryFiles
{
    private static readonly Lazy<string?> FoundRoot = new(FindRoot);

    /// <summary>The repository root, or null when the tests run outside a checkout.</summary>
    public static string? TryRoot => FoundRoot.Value;

    public static string Root => TryRoot ?? throw new InvalidOperationException("Cannot find the repository root (Dmh.sln).");

    /// <summary>The text of a file given by its path from the repository root, e.g. <c>docs/sync/mysql.sql</c>.</summary>
    public static string ReadText(string relativePath) =>
        File.ReadAllText(Path.Combine([Root, .. relativePath.Split('/')]));

    private static string? FindRoot()
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
        {
            if (File.Exists(Path.Combine(dir.FullName, "Dmh.sln")))
            {
                return dir.FullName;
            }
        }

        return null;
    }
}
