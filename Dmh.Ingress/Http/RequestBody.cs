namespace Dmh.Ingress.Http;

/// <summary>The one reader of raw request bodies (registration, WeChat's notify).</summary>
public static class RequestBody
{
    /// <summary>
    /// The body, or null when it is over <paramref name="maxBytes"/>: refused by its Content-Length up
    /// front, or while reading, since chunked bodies have no Content-Length to check.
    /// </summary>
    public static async Task<byte[]?> ReadAsync(HttpRequest request, int maxBytes, CancellationToken ct)
    {
        if (request.ContentLength > maxBytes)
        {
            return null;
        }

        using var buffer = new MemoryStream(request.ContentLength is { } length ? (int)length : 4096);
        var chunk = new byte[8192];
        int read;
        try
        {
            while ((read = await request.Body.ReadAsync(chunk, ct)) > 0)
            {
                if (buffer.Length + read > maxBytes)
                {
                    return null;
                }

                buffer.Write(chunk, 0, read);
            }
        }
        catch (BadHttpRequestException ex) when (ex.StatusCode == StatusCodes.Status413PayloadTooLarge)
        {
            // The server's own body size limit (PublicLimits sets it for JSON bodies) stopped the read.
            return null;
        }

        return buffer.ToArray();
    }
}
