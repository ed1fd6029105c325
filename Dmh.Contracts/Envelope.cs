namespace Dmh.Contracts;

/// <summary>
/// One stream entry. Stored as the flat fields <c>type</c>, <c>v</c>, <c>key</c>, <c>payload</c>
/// (JSON, camelCase) and <c>publishedAt</c> (ISO 8601 UTC).
/// </summary>
/// <param name="Type">Message type, one of <see cref="MessageTypes"/>.</param>
/// <param name="Version">Schema version of the payload.</param>
/// <param name="Key">Business idempotency key (e.g. the out_trade_no); consumers deduplicate on it.</param>
/// <param name="Payload">The message serialised as JSON.</param>
/// <param name="PublishedAt">When the producer wrote the entry.</param>
public sealed record Envelope(string Type, int Version, string Key, string Payload, DateTimeOffset PublishedAt)
{
    /// <summary>Stream field names.</summary>
    public static class Fields
    {
        /// <summary>Message type.</summary>
        public const string Type = "type";
        /// <summary>Payload schema version.</summary>
        public const string Version = "v";
        /// <summary>Idempotency key.</summary>
        public const string Key = "key";
        /// <summary>JSON payload.</summary>
        public const string Payload = "payload";
        /// <summary>Publication time.</summary>
        public const string PublishedAt = "publishedAt";
    }
}
