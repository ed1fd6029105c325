using Dmh.Contracts;
using Dmh.Platform.Redis;
using Microsoft.Extensions.Options;
using StackExchange.Redis;

namespace Dmh.Ingress.Payments;

/// <summary>
/// The amount of each payment attempt, written to Redis when the attempt is made and kept until
/// WeChat stops retrying its notify, so that the notify checks its amount in Redis, in the script that
/// also publishes the payment (<see cref="PaymentPublisher"/>), instead of a MySQL query (two round trips
/// with the pooled connection's reset, a join; perf/README.md has the figures). The attempt's
/// amount never changes, so this copy cannot go stale; an attempt not found here (older, or lost with
/// Redis) is looked up in MySQL as before.
/// </summary>
public sealed class AttemptAmounts(IConnectionMultiplexer redis, RedisKeys keys)
{
    /// <summary>WeChat retries an unanswered notify for about a day after the payment (15 s … 6 h, 15 tries).</summary>
    public static readonly TimeSpan NotifyRetryWindow = TimeSpan.FromHours(25);

    public static string KeyName(string outTradeNo) => StreamNames.Payments + ":amount:" + outTradeNo;

    /// <summary>Stores the amount for as long as the attempt is payable plus WeChat's notify retries.</summary>
    public Task RememberAsync(string outTradeNo, long amountFen, TimeSpan payableFor) =>
        redis.GetDatabase().StringSetAsync(keys.For(KeyName(outTradeNo)), amountFen, payableFor + NotifyRetryWindow);

    /// <summary>
    /// The seeding helper for tools that write payment attempts straight into MySQL (perf/Dmh.Perf's
    /// bulk seeding, perf/README.md): remembers each attempt's amount as the pay step does, so that
    /// the attempts' notifies take the same path as real ones. <paramref name="redis"/> connects as
    /// Ingress's Redis user; <paramref name="keyPrefix"/> is Ingress's <c>Redis:KeyPrefix</c>.
    /// </summary>
    public static Task SeedAsync(
        IConnectionMultiplexer redis, string keyPrefix, IEnumerable<(string OutTradeNo, long AmountFen)> attempts, TimeSpan payableFor)
    {
        var amounts = new AttemptAmounts(redis, new RedisKeys(Options.Create(new RedisOptions { KeyPrefix = keyPrefix })));
        return Task.WhenAll(attempts.Select(a => amounts.RememberAsync(a.OutTradeNo, a.AmountFen, payableFor)));
    }
}
