using Dmh.Ingress.Posters;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;
using Microsoft.Extensions.Time.Testing;

namespace Dmh.UnitTests.Posters;

public sealed class PosterCacheSweeperTests : IDisposable
{
    private readonly string _directory = Path.Combine(Path.GetTempPath(), "dmh-poster-sweep-" + Guid.NewGuid().ToString("N"));

    public void Dispose() => Directory.Delete(_directory, recursive: true);

    [Fact]
    public void Posters_and_temp_files_older_than_the_retention_are_deleted_newer_ones_kept()
    {
        var now = new DateTimeOffset(2026, 11, 25, 12, 0, 0, TimeSpan.Zero);
        Directory.CreateDirectory(_directory);
        var old = Write("old.png", now.AddDays(-31));
        var oldTemp = Write("crashed.1234.tmp", now.AddDays(-31));
        var fresh = Write("fresh.png", now.AddDays(-29));
        var other = Write("notes.txt", now.AddDays(-100));
        var sweeper = new PosterCacheSweeper(
            Options.Create(new PosterOptions { CacheDirectory = _directory, CacheRetention = TimeSpan.FromDays(30) }),
            new FakeTimeProvider(now), NullLogger<PosterCacheSweeper>.Instance);

        Assert.Equal(2, sweeper.Sweep());

        Assert.False(File.Exists(old));
        Assert.False(File.Exists(oldTemp));
        Assert.True(File.Exists(fresh));
        Assert.True(File.Exists(other));
    }

    [Fact]
    public void A_missing_cache_directory_is_nothing_to_sweep()
    {
        var sweeper = new PosterCacheSweeper(
            Options.Create(new PosterOptions { CacheDirectory = Path.Combine(_directory, "never-created") }),
            TimeProvider.System, NullLogger<PosterCacheSweeper>.Instance);
        Directory.CreateDirectory(_directory);

        Assert.Equal(0, sweeper.Sweep());
    }

    private string Write(string name, DateTimeOffset writtenAt)
    {
        var path = Path.Combine(_directory, name);
        File.WriteAllBytes(path, [1, 2, 3]);
        File.SetLastWriteTimeUtc(path, writtenAt.UtcDateTime);
        return path;
    }
}
