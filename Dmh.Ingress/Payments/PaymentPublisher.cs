using System.ComponentModel.DataAnnotations;
using System.Text.Json;
using Dmh.Contracts;
using Dmh.Platform.Redis;
using Dmh.Platform.Streams;
using Microsoft.Extensions.Options;
using StackExchange.Redis;

namespace Dmh.Ingress.Payments;

/// <summary>What <see cref="PaymentPublisher.PublishIfAmountAgreesAsync"/> did.</summary>
public enum AmountCheckedPublish
{
    /// <summary>The amount agreed and the payment was published now.</summary>
    Published,

    /// <summary>The amount agreed; the payment had been published before.</summary>
    AlreadyPublished,

    /// <summary>Redis holds no amount for the attempt: nothing was done; ask MySQL.</summary>
    AmountUnknown,

    /// <summary>The notify's amount is not the attempt's: nothing was published.</summary>
    AmountDiffers,
}

public sealed class PaymentMarkerOptions
{
    public const string SectionName = "Payments";

    /// <summary>
    /// How long the "already published" marker of an out_trade_no lives. WeChat Pay re-sends a notify
    /// for up to 24 h 4 min (15 s, 15 s, 30 s, 3 m, 10 m, 20 m, 30 m, 30 m, 30 m, 60 m, 3 h, 3 h, 3 h, 6 h, 6 h),
    /// so duplicates inside that window are absorbed here; a later one is published again and settlement's
    /// idempotency absorbs it. Bounded so the markers do not grow with every payment ever made (issue 23).
    /// </summary>
    [Range(typeof(TimeSpan), "00:00:01", "30.00:00:00")]
    public TimeSpan PublishedMarkerLifetime { get; set; } = TimeSpan.FromHours(25);
}

/// <summary>
/// Publishes <see cref="PaymentSucceeded"/> once per out_trade_no whatever the number of notifies,
/// callbacks or concurrent deliveries: the dedupe marker and the XADD (and, for a notify, the check of
/// the attempt's amount) are one Lua script.
/// </summary>
public sealed class PaymentPublisher(IConnectionMultiplexer redis, RedisKeys keys, TimeProvider time, IOptions<PaymentMarkerOptions>? options = null)
{
    private readonly long _markerSeconds = (long)Math.Ceiling((options?.Value ?? new PaymentMarkerOptions()).PublishedMarkerLifetime.TotalSeconds);

    // One script for both paths. ARGV[2] is the amount in fen to check against the attempt's amount
    // kept by AttemptAmounts (KEYS[3]; the notify's path, one round trip instead of two), or empty to
    // skip the check. XADD before SET: if XADD fails nothing is marked; if SET failed after XADD a later
    // duplicate would publish again, which the idempotent consumer absorbs. A marker without its entry
    // cannot happen.
    private const string Script = """
        if ARGV[2] ~= '' then
          local expected = redis.call('GET', KEYS[3])
          if not expected then
            return 'unknown'
          end
          if expected ~= ARGV[2] then
            return 'differs:' .. expected
          end
        end
        if redis.call('EXISTS', KEYS[2]) == 1 then
          return 'duplicate'
        end
        -- No length cap: it would delete entries still pending in settlement's group (StreamMaintenance trims).
        local id = redis.call('XADD', KEYS[1], '*', unpack(ARGV, 3))
        redis.call('SET', KEYS[2], id, 'EX', ARGV[1])
        return 'published'
        """;

    public static string MarkerName(string outTradeNo) => StreamNames.Payments + ":published:" + outTradeNo;

    /// <summary>True when the payment was published now, false when this out_trade_no was published before. Throws when Redis fails.</summary>
    public async Task<bool> PublishOnceAsync(PaymentSucceeded message) =>
        (await RunAsync(message, checkAmount: false)).Outcome == AmountCheckedPublish.Published;

    /// <summary>
    /// Publishes once, as <see cref="PublishOnceAsync"/>, only if the amount Redis holds for the
    /// attempt (<see cref="AttemptAmounts"/>) is <paramref name="message"/>'s total; with
    /// <see cref="AmountCheckedPublish.AmountDiffers"/> comes the attempt's amount. Throws when Redis fails.
    /// </summary>
    public Task<(AmountCheckedPublish Outcome, long? AttemptFen)> PublishIfAmountAgreesAsync(PaymentSucceeded message) =>
        RunAsync(message, checkAmount: true);

    private async Task<(AmountCheckedPublish Outcome, long? AttemptFen)> RunAsync(PaymentSucceeded message, bool checkAmount)
    {
        var result = (string?)await redis.GetDatabase().ScriptEvaluateAsync(Script,
            [keys.For(StreamNames.Payments), keys.For(MarkerName(message.OutTradeNo)), keys.For(AttemptAmounts.KeyName(message.OutTradeNo))],
            Arguments(message, checkAmount ? message.TotalFen : RedisValue.EmptyString));
        return result switch
        {
            "published" => (AmountCheckedPublish.Published, message.TotalFen),
            "duplicate" => (AmountCheckedPublish.AlreadyPublished, message.TotalFen),
            "unknown" => (AmountCheckedPublish.AmountUnknown, null),
            _ when result?.StartsWith("differs:", StringComparison.Ordinal) == true
                && long.TryParse(result.AsSpan("differs:".Length), out var attemptFen) => (AmountCheckedPublish.AmountDiffers, attemptFen),
            _ => throw new InvalidOperationException($"Unexpected answer from the publish script: {result}"),
        };
    }

    /// <summary>Marker lifetime, the amount to check (or empty), then the entry's fields.</summary>
    private RedisValue[] Arguments(PaymentSucceeded message, RedisValue amountToCheck)
    {
        var envelope = new Envelope(MessageTypes.PaymentSucceeded, 1, message.OutTradeNo,
            JsonSerializer.Serialize(message, StreamPublisher.Json), time.GetUtcNow());
        var fields = StreamPublisher.ToFields(envelope);
        var args = new RedisValue[2 + fields.Length * 2];
        args[0] = _markerSeconds;
        args[1] = amountToCheck;
        for (var i = 0; i < fields.Length; i++)
        {
            args[2 + i * 2] = fields[i].Name;
            args[3 + i * 2] = fields[i].Value;
        }

        return args;
    }
}
