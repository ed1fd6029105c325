using System.Text.Json;
using Dmh.Contracts;
using Dmh.Platform.Redis;
using Dmh.Platform.Streams;
using StackExchange.Redis;

namespace Dmh.Ingress.Payments;

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

    public static string MarkerName(string outTradeNo) => StreamNames.Payments + ":published:" + outTradeNo;

    /// <summary>The new entry's id, or null when this out_trade_no was published before. Throws when Redis fails.</summary>
    public async Task<string?> PublishOnceAsync(PaymentSucceeded message)
    {
        var envelope = new Envelope(MessageTypes.PaymentSucceeded, 1, message.OutTradeNo,
            JsonSerializer.Serialize(message, StreamPublisher.Json), time.GetUtcNow());
        var fields = StreamPublisher.ToFields(envelope);
        var args = new RedisValue[2 + fields.Length * 2];
        args[0] = (long)MarkerLifetime.TotalSeconds;
        args[1] = StreamPublisher.MaxLength;
        for (var i = 0; i < fields.Length; i++)
        {
            args[2 + i * 2] = fields[i].Name;
            args[3 + i * 2] = fields[i].Value;
        }

        var result = await redis.GetDatabase().ScriptEvaluateAsync(Script,
            [keys.For(StreamNames.Payments), keys.For(MarkerName(message.OutTradeNo))], args);
        return result.IsNull ? null : (string?)result;
    }
}
