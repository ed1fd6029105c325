using System.Globalization;
using System.Text.Json;
using Dmh.Contracts;
using Dmh.Platform.Redis;
using StackExchange.Redis;

namespace Dmh.Platform.Streams;

/// <summary>
/// Appends envelopes to a stream. With Redis' <c>appendfsync always</c> the XADD reply means the entry
/// is on disk, so callers may acknowledge their own producer (e.g. answer WeChat's notify) after it.
/// </summary>
public sealed class StreamPublisher(IConnectionMultiplexer redis, RedisKeys keys, TimeProvider time)
{
    public static readonly JsonSerializerOptions Json = new(JsonSerializerDefaults.Web);

    /// <summary>
    /// The dead-letter stream (read by no group) is capped at about this many entries. The streams that
    /// groups consume are never capped on XADD: on Redis 7.0 a cap deletes entries still pending in a
    /// group. <see cref="StreamMaintenance"/> trims them below what every group has acknowledged.
    /// </summary>
    public const int DeadLetterMaxLength = 1_000_000;

    public Task<RedisValue> PublishAsync<T>(string stream, string type, string key, T message, int version = 1) =>
        PublishRawAsync(stream, new Envelope(type, version, key, JsonSerializer.Serialize(message, Json), time.GetUtcNow()));

    public Task<RedisValue> PublishRawAsync(string stream, Envelope envelope) =>
        redis.GetDatabase().StreamAddAsync(keys.For(stream), ToFields(envelope));

    public static NameValueEntry[] ToFields(Envelope envelope) =>
    [
        new(Envelope.Fields.Type, envelope.Type),
        new(Envelope.Fields.Version, envelope.Version),
        new(Envelope.Fields.Key, envelope.Key),
        new(Envelope.Fields.Payload, envelope.Payload),
        new(Envelope.Fields.PublishedAt, envelope.PublishedAt.ToString("O", CultureInfo.InvariantCulture)),
    ];

    /// <summary>Reads an envelope back from stream fields; throws <see cref="FormatException"/> if malformed.</summary>
    public static Envelope FromFields(NameValueEntry[] values)
    {
        string? Get(string name)
        {
            foreach (var v in values)
            {
                if (v.Name == name)
                {
                    return v.Value;
                }
            }

            return null;
        }

        var type = Get(Envelope.Fields.Type) ?? throw new FormatException("Stream entry has no 'type'.");
        var payload = Get(Envelope.Fields.Payload) ?? throw new FormatException("Stream entry has no 'payload'.");
        var version = int.TryParse(Get(Envelope.Fields.Version), CultureInfo.InvariantCulture, out var v1) ? v1 : 1;
        var published = DateTimeOffset.TryParse(Get(Envelope.Fields.PublishedAt), CultureInfo.InvariantCulture, DateTimeStyles.RoundtripKind, out var p)
            ? p
            : DateTimeOffset.MinValue;
        return new Envelope(type, version, Get(Envelope.Fields.Key) ?? "", payload, published);
    }
}
