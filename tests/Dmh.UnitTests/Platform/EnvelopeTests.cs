using Dmh.Contracts;
using Dmh.Platform.Streams;
using StackExchange.Redis;

namespace Dmh.UnitTests.Platform;

public sealed class EnvelopeTests
{
    [Fact]
    public void An_envelope_survives_the_stream_fields()
    {
        var envelope = new Envelope(MessageTypes.PaymentSucceeded, 1, "D1A1", """{"outTradeNo":"D1A1"}""", DateTimeOffset.Parse("2026-11-25T01:02:03.456Z", System.Globalization.CultureInfo.InvariantCulture));
        var back = StreamPublisher.FromFields(StreamPublisher.ToFields(envelope));
        Assert.Equal(envelope, back);
    }

    [Fact]
    public void An_entry_without_type_or_payload_is_malformed()
    {
        Assert.Throws<FormatException>(() => StreamPublisher.FromFields([new NameValueEntry("payload", "{}")]));
        Assert.Throws<FormatException>(() => StreamPublisher.FromFields([new NameValueEntry("type", "X")]));
    }
}
