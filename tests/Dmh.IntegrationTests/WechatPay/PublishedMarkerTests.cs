using Dmh.Contracts;
using Dmh.Ingress.Payments;
using Dmh.IntegrationTests.Infrastructure;
using Dmh.Platform.Redis;
using Microsoft.Extensions.Options;
using StackExchange.Redis;

namespace Dmh.IntegrationTests.WechatPay;

/// <summary>Issue 23: the per-payment "published" markers are bounded by WeChat's retry window.</summary>
public sealed class PublishedMarkerTests : IAsyncLifetime
{
    private readonly string _prefix = TestKeys.NewRedisPrefix();
    private ConnectionMultiplexer _redis = null!;
    private RedisKeys _keys = null!;

    public async Task InitializeAsync()
    {
        _redis = await ConnectionMultiplexer.ConnectAsync(TestEnvironment.Redis);
        _keys = new RedisKeys(Options.Create(new RedisOptions { Configuration = "unused", KeyPrefix = _prefix }));
    }

    public async Task DisposeAsync()
    {
        await _redis.GetDatabase().KeyDeleteAsync(_keys.For(StreamNames.Payments));
        await _redis.DisposeAsync();
    }

    private PaymentPublisher Publisher(TimeSpan? lifetime = null) => new(_redis, _keys, TimeProvider.System,
        lifetime is null ? null : Options.Create(new PaymentMarkerOptions { PublishedMarkerLifetime = lifetime.Value }));

    private static PaymentSucceeded Payment(string outTradeNo)
    {
        var now = DateTimeOffset.UtcNow;
        return new PaymentSucceeded(outTradeNo, "42000" + outTradeNo, 9900, 9900, now, now, PaymentSources.Notify);
    }

    [Fact]
    public async Task The_default_marker_outlives_WeChat_s_retry_window_and_then_expires()
    {
        Assert.True(await Publisher().PublishOnceAsync(Payment("D1A1")));

        var ttl = await _redis.GetDatabase().KeyTimeToLiveAsync(_keys.For(PaymentPublisher.MarkerName("D1A1")));
        Assert.NotNull(ttl);
        // WeChat Pay re-sends a notify for up to 24 h 4 min; the marker must last that long, and not for weeks.
        Assert.InRange(ttl.Value, TimeSpan.FromHours(24) + TimeSpan.FromMinutes(5), TimeSpan.FromHours(26));
    }

    [Fact]
    public async Task A_duplicate_inside_the_window_is_recognised_and_the_marker_is_gone_after_it()
    {
        var publisher = Publisher(TimeSpan.FromSeconds(2));
        Assert.True(await publisher.PublishOnceAsync(Payment("D2A1")));
        Assert.False(await publisher.PublishOnceAsync(Payment("D2A1")));
        Assert.Equal(1, await _redis.GetDatabase().StreamLengthAsync(_keys.For(StreamNames.Payments)));

        var marker = _keys.For(PaymentPublisher.MarkerName("D2A1"));
        for (var i = 0; i < 100 && await _redis.GetDatabase().KeyExistsAsync(marker); i++)
        {
            await Task.Delay(100);
        }

        Assert.False(await _redis.GetDatabase().KeyExistsAsync(marker));
    }
}
