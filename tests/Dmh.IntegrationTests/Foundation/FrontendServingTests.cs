using System.Net;
using Dmh.IntegrationTests.Infrastructure;

namespace Dmh.IntegrationTests.Foundation;

/// <summary>Ingress serves the built front ends, precompressed where the client accepts it.</summary>
public sealed class FrontendServingTests : IAsyncLifetime
{
    private readonly string _dist = Path.Combine(Path.GetTempPath(), "dmh-dist-" + Guid.NewGuid().ToString("N"));
    private TestDatabase _db = null!;
    private ServiceFactory<Dmh.Ingress.EntryPoint> _factory = null!;

    public async Task InitializeAsync()
    {
        Directory.CreateDirectory(Path.Combine(_dist, "assets"));
        await File.WriteAllTextAsync(Path.Combine(_dist, "index.html"), "<html>DMH 管理后台</html>");
        await File.WriteAllTextAsync(Path.Combine(_dist, "assets", "app-1a2b.js"), "console.log('plain')");
        await File.WriteAllBytesAsync(Path.Combine(_dist, "assets", "app-1a2b.js.br"), [1, 2, 3]);
        await File.WriteAllTextAsync(Path.Combine(Path.GetTempPath(), "dmh-secret.txt"), "secret");
        _db = await TestDatabase.CreateAsync();
        _factory = new ServiceFactory<Dmh.Ingress.EntryPoint>(_db, TestKeys.NewRedisPrefix(), new Dictionary<string, string?>
        {
            ["Frontends:AdminDist"] = _dist,
            ["Frontends:H5Dist"] = _dist,
        });
    }

    public async Task DisposeAsync()
    {
        await _factory.DisposeAsync();
        await _db.DisposeAsync();
        Directory.Delete(_dist, recursive: true);
    }

    [Fact]
    public async Task Index_is_served_fresh_and_assets_brotli_when_accepted()
    {
        using var client = _factory.CreateClient();
        var index = await client.GetAsync("/admin/");
        Assert.Equal(HttpStatusCode.OK, index.StatusCode);
        Assert.Contains("管理后台", await index.Content.ReadAsStringAsync(), StringComparison.Ordinal);
        Assert.Equal("no-cache", index.Headers.CacheControl?.ToString());

        using var br = new HttpRequestMessage(HttpMethod.Get, "/h5/assets/app-1a2b.js");
        br.Headers.TryAddWithoutValidation("Accept-Encoding", "gzip, br");
        var compressed = await client.SendAsync(br);
        Assert.Equal("br", Assert.Single(compressed.Content.Headers.ContentEncoding));
        Assert.Equal([1, 2, 3], await compressed.Content.ReadAsByteArrayAsync());
        Assert.Equal("text/javascript", compressed.Content.Headers.ContentType?.MediaType);
        Assert.Contains("immutable", compressed.Headers.CacheControl?.ToString(), StringComparison.Ordinal);

        var plain = await client.GetAsync("/h5/assets/app-1a2b.js");
        Assert.Empty(plain.Content.Headers.ContentEncoding);
        Assert.Equal("console.log('plain')", await plain.Content.ReadAsStringAsync());
    }

    [Fact]
    public async Task Paths_outside_the_build_and_missing_files_are_not_served()
    {
        using var client = _factory.CreateClient();
        Assert.Equal(HttpStatusCode.NotFound, (await client.GetAsync("/admin/../dmh-secret.txt")).StatusCode);
        Assert.Equal(HttpStatusCode.NotFound, (await client.GetAsync("/admin/%2e%2e/dmh-secret.txt")).StatusCode);
        Assert.Equal(HttpStatusCode.NotFound, (await client.GetAsync("/admin/assets/missing.js")).StatusCode);
    }
}
