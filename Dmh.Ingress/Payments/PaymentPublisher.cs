using System.Text.Json;
using Dmh.Contracts;
using Dmh.Platform.Payments;
using Dmh.Platform.Redis;
using Dmh.Platform.Streams;
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

/// <summary>
/// Publishes <see cref="PaymentSucceeded"/> once per out_trade_no whatever the number of notifies,
/// callbacks or concurrent deliveries: the dedupe marker and the XADD are one Lua script.
/// </summary>
public sealed class PaymentPublisher(IConnectionMultiplexer redis, RedisKeys keys, TimeProvider time)
{
    /// <summary>How long the "already published" marker lives; later duplicates are absorbed by settlement's idempotency.</summary>
    public static readonly TimeSpan MarkerLifetime = TimeSpan.FromDays(30);

    // XADD before SET: if XADD fails nothing is marked; if SET failed after XADD a later duplicate would
    // publish again, which the idempotent consumer absorbs. A marker without its entry cannot happen.
    private const string Script = """
        if redis.call('EXISTS', KEYS[2]) == 1 then
          return false
        end
        local id = redis.call('XADD', KEYS[1], 'MAXLEN', '~', ARGV[2], '*', unpack(ARGV, 3))
        redis.call('SET', KEYS[2], id, 'EX', ARGV[1])
        return id
        """;

    // The notify's path: the check of the attempt's amount (AttemptAmounts) and the publish in one
    // round trip instead of two. ARGV[3] is the amount in fen as Redis stores it (decimal digits).
    private const string AmountCheckedScript = """
        local expected = redis.call('GET', KEYS[3])
        if not expected then
          return 'unknown'
        end
        if expected ~= ARGV[3] then
          return 'differs:' .. expected
        end
        if redis.call('EXISTS', KEYS[2]) == 1 then
          return 'duplicate'
        end
        local id = redis.call('XADD', KEYS[1], 'MAXLEN', '~', ARGV[2], '*', unpack(ARGV, 4))
        redis.call('SET', KEYS[2], id, 'EX', ARGV[1])
        return 'published'
        """;

    public static string MarkerName(string outTradeNo) => StreamNames.Payments + ":published:" + outTradeNo;

    /// <summary>The new entry's id, or null when this out_trade_no was published before. Throws when Redis fails.</summary>
    public async Task<string?> PublishOnceAsync(PaymentSucceeded message)
    {
        var result = await redis.GetDatabase().ScriptEvaluateAsync(Script,
            [keys.For(StreamNames.Payments), keys.For(MarkerName(message.OutTradeNo))], Arguments(message, []));
        return result.IsNull ? null : (string?)result;
    }

    /// <summary>
    /// Publishes once, as <see cref="PublishOnceAsync"/>, only if the amount Redis holds for the
    /// attempt (<see cref="AttemptAmounts"/>) is <paramref name="message"/>'s total; with
    /// <see cref="AmountCheckedPublish.AmountDiffers"/> comes the attempt's amount. Throws when Redis fails.
    /// </summary>
    public async Task<(AmountCheckedPublish Outcome, long? AttemptFen)> PublishIfAmountAgreesAsync(PaymentSucceeded message)
    {
        var result = (string?)await redis.GetDatabase().ScriptEvaluateAsync(AmountCheckedScript,
            [keys.For(StreamNames.Payments), keys.For(MarkerName(message.OutTradeNo)), keys.For(AttemptAmounts.KeyName(message.OutTradeNo))],
            Arguments(message, [message.TotalFen]));
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

    /// <summary>Marker lifetime, stream length, the script's own values, then the entry's fields.</summary>
    private RedisValue[] Arguments(PaymentSucceeded message, RedisValue[] extra)
    {
        var envelope = new Envelope(MessageTypes.PaymentSucceeded, 1, message.OutTradeNo,
            JsonSerializer.Serialize(message, StreamPublisher.Json), time.GetUtcNow());
        var fields = StreamPublisher.ToFields(envelope);
        var args = new RedisValue[2 + extra.Length + fields.Length * 2];
        args[0] = (long)MarkerLifetime.TotalSeconds;
        args[1] = StreamPublisher.MaxLength;
        extra.CopyTo(args, 2);
        var first = 2 + extra.Length;
        for (var i = 0; i < fields.Length; i++)
        {
            args[first + i * 2] = fields[i].Name;
            args[first + 1 + i * 2] = fields[i].Value;
        }

        return args;
    }
}
