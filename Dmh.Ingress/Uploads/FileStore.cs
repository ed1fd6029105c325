using Microsoft.Extensions.FileProviders;
using Microsoft.Extensions.Options;

namespace Dmh.Ingress.Uploads;

/// <summary>Where uploaded files live, addressed by a relative path such as <c>covers/ab12….png</c>.</summary>
public interface IFileStore
{
    /// <summary>Stores the bytes unless a file with this path already exists (paths are content hashes).</summary>
    Task SaveAsync(string relativePath, ReadOnlyMemory<byte> content, CancellationToken ct);

    /// <summary>The stored file, or null for a missing file, a directory or a path outside the store.</summary>
    IFileInfo? Find(string relativePath);
}

/// <summary>Files on the local disk under <see cref="UploadOptions.Directory"/>.</summary>
public sealed class LocalFileStore : IFileStore, IDisposable
{
    private readonly string _root;
    private readonly PhysicalFileProvider _provider;

    public LocalFileStore(IOptions<UploadOptions> options)
    {
        _root = Path.GetFullPath(options.Value.Directory);
        Directory.CreateDirectory(_root);
        // PhysicalFileProvider refuses absolute paths, ".." escapes and hidden/system files.
        _provider = new PhysicalFileProvider(_root);
    }

    public async Task SaveAsync(string relativePath, ReadOnlyMemory<byte> content, CancellationToken ct)
    {
        var path = Path.GetFullPath(Path.Combine(_root, relativePath));
        if (!path.StartsWith(_root.TrimEnd(Path.DirectorySeparatorChar) + Path.DirectorySeparatorChar, StringComparison.Ordinal))
        {
            throw new ArgumentException("The path leaves the upload directory.", nameof(relativePath));
        }

        if (File.Exists(path))
        {
            return;
        }

        Directory.CreateDirectory(Path.GetDirectoryName(path)!);
        // Write aside and move into place so a reader never sees a half-written file.
        var temp = path + "." + Guid.NewGuid().ToString("N") + ".tmp";
        try
        {
            await File.WriteAllBytesAsync(temp, content.ToArray(), ct);
            File.Move(temp, path, overwrite: false);
        }
        catch (IOException) when (File.Exists(path))
        {
            // A concurrent upload of the same content won the move: same hash, same bytes.
        }
        finally
        {
            File.Delete(temp);
        }
    }

    public void Dispose() => _provider.Dispose();

    public IFileInfo? Find(string relativePath)
    {
        var info = _provider.GetFileInfo(relativePath);
        return info.Exists && !info.IsDirectory && info.PhysicalPath is not null ? info : null;
    }
}
