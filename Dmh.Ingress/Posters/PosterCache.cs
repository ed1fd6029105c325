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

/// <summary>
/// Deletes cached posters written longer than <see cref="PosterOptions.CacheRetention"/> ago, and temp
/// files a crash left behind. A poster renders again byte for byte on demand, so age alone decides:
/// posters of changed content (a renamed campaign) are never asked for again and would pile up, and a
/// popular one costs one render per retention period.
/// </summary>
internal sealed class PosterCacheSweeper(IOptions<PosterOptions> options, TimeProvider time, ILogger<PosterCacheSweeper> logger) : BackgroundService
{
    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        using var timer = new PeriodicTimer(options.Value.CacheSweepInterval, time);
        do
        {
            var deleted = Sweep();
            if (deleted > 0)
            {
                logger.LogInformation("Deleted {Count} cached posters older than {Retention}", deleted, options.Value.CacheRetention);
            }
        }
        while (await timer.WaitForNextTickAsync(stoppingToken));
    }

    public int Sweep()
    {
        var directory = new DirectoryInfo(Path.GetFullPath(options.Value.CacheDirectory));
        if (!directory.Exists)
        {
            return 0;
        }

        var cutoff = time.GetUtcNow().UtcDateTime - options.Value.CacheRetention;
        var deleted = 0;
        foreach (var file in directory.EnumerateFiles("*.png").Concat(directory.EnumerateFiles("*.tmp")))
        {
            try
            {
                if (file.LastWriteTimeUtc < cutoff)
                {
                    file.Delete();
                    deleted++;
                }
            }
            catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
            {
                logger.LogWarning(ex, "Could not delete cached poster {File}", file.Name);
            }
        }

        return deleted;
    }
}
