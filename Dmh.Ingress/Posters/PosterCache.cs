using Microsoft.Extensions.Options;

namespace Dmh.Ingress.Posters;

/// <summary>Rendered posters on disk, one file per content hash.</summary>
internal sealed class PosterCache(IOptions<PosterOptions> options, PosterRenderer renderer, ILogger<PosterCache> logger)
{
    private readonly string _directory = Path.GetFullPath(options.Value.CacheDirectory);

    public async Task<byte[]> GetOrRenderAsync(PosterContent content, CancellationToken ct)
    {
        var key = PosterRenderer.Key(content);
        var path = Path.Combine(_directory, key + ".png");
        try
        {
            return await File.ReadAllBytesAsync(path, ct);
        }
        catch (Exception ex) when (ex is FileNotFoundException or DirectoryNotFoundException)
        {
            // First request for this content: render below.
        }

        var png = renderer.Render(content);
        Directory.CreateDirectory(_directory);

        // Concurrent first requests each write their own temp file and rename it over the final name;
        // rename is atomic on one file system, so readers see a whole poster or none.
        var temp = Path.Combine(_directory, $"{key}.{Guid.NewGuid():N}.tmp");
        try
        {
            await File.WriteAllBytesAsync(temp, png, ct);
            File.Move(temp, path, overwrite: true);
        }
        catch (IOException ex)
        {
            logger.LogWarning(ex, "Could not cache poster {Key} in {Directory}", key, _directory);
            TryDelete(temp);
        }
        catch (UnauthorizedAccessException ex)
        {
            logger.LogWarning(ex, "Could not cache poster {Key} in {Directory}", key, _directory);
            TryDelete(temp);
        }

        return png;
    }

    private static void TryDelete(string path)
    {
        try
        {
            File.Delete(path);
        }
        catch (IOException)
        {
        }
        catch (UnauthorizedAccessException)
        {
        }
    }
}
