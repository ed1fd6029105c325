using System.Globalization;

namespace Dmh.Chaos;

/// <summary>Sizes of a run: the full run (<c>./dmh chaos</c>) or the compressed one <c>./dmh test chaos</c> runs (<c>--quick</c>).</summary>
public sealed record ChaosSettings
{
    public required bool Quick { get; init; }

    /// <summary>Journeys per scenario (the soak runs <see cref="SoakJourneys"/>).</summary>
    public required int Journeys { get; init; }

    public required int SoakJourneys { get; init; }

    /// <summary>Every this many journeys one is refunded (in full, a third, or two quarters); 0: none.</summary>
    public required int RefundEvery { get; init; }

    /// <summary>Every this many referrers one withdraws (WeChat transfer: some rejected, failed or with notify faults); 0: none.</summary>
    public required int WithdrawEvery { get; init; }

    /// <summary>Journeys started per second.</summary>
    public required double Rate { get; init; }

    /// <summary>Faults per scenario (kills, restarts, network faults, churn steps).</summary>
    public required int Faults { get; init; }

    /// <summary>Redis, MariaDB and customer-database outages per scenario (each a restart of a data server).</summary>
    public required int ServerFaults { get; init; }

    /// <summary>Pause between faults.</summary>
    public required TimeSpan Interval { get; init; }

    /// <summary>How long a network fault is held.</summary>
    public required TimeSpan Hold { get; init; }

    /// <summary>How long the customer's database stays down ("an hour", compressed).</summary>
    public required TimeSpan Outage { get; init; }

    /// <summary>Duplicate storm: late deliveries come up to this long after the first.</summary>
    public required TimeSpan LateBy { get; init; }

    /// <summary>A journey gives up (register, notify retries) after this long.</summary>
    public required TimeSpan JourneyDeadline { get; init; }

    /// <summary>The backlog must drain within this long after the fault is cleared.</summary>
    public required TimeSpan RecoveryTimeout { get; init; }

    public static ChaosSettings Full => new()
    {
        Quick = false,
        Journeys = 3000,
        SoakJourneys = 50_000,
        RefundEvery = 10,
        WithdrawEvery = 5,
        Rate = 50,
        Faults = 100,
        ServerFaults = 5,
        Interval = TimeSpan.FromSeconds(1),
        Hold = TimeSpan.FromSeconds(3),
        Outage = TimeSpan.FromSeconds(60),
        LateBy = TimeSpan.FromSeconds(60),
        JourneyDeadline = TimeSpan.FromMinutes(5),
        RecoveryTimeout = TimeSpan.FromMinutes(10),
    };

    public static ChaosSettings Compressed => new()
    {
        Quick = true,
        Journeys = 300,
        SoakJourneys = 600,
        RefundEvery = 10,
        WithdrawEvery = 5,
        Rate = 20,
        Faults = 5,
        ServerFaults = 2,
        Interval = TimeSpan.FromSeconds(1),
        Hold = TimeSpan.FromSeconds(1),
        Outage = TimeSpan.FromSeconds(5),
        LateBy = TimeSpan.FromSeconds(5),
        JourneyDeadline = TimeSpan.FromMinutes(2),
        RecoveryTimeout = TimeSpan.FromMinutes(2),
    };

    public const string Usage = """
        usage: Dmh.Chaos [--quick] [--journeys N] [--soak-journeys N] [--rate R] [--faults N] [--server-faults N] [--refund-every N] [--withdraw-every N] [--base-url URL] [scenario...]
          --quick   the compressed run of ./dmh test (every scenario, a few hundred journeys, 5 faults)
        """;

    public static (ChaosSettings Settings, Uri BaseUrl, List<string> Scenarios) Parse(string[] args)
    {
        var settings = args.Contains("--quick") ? Compressed : Full;
        var baseUrl = new Uri("http://127.0.0.1:5080");
        var scenarios = new List<string>();
        for (var i = 0; i < args.Length; i++)
        {
            string Value() => i + 1 < args.Length ? args[++i] : throw new ArgumentException($"{args[i]} needs a value");
            switch (args[i])
            {
                case "--quick":
                    break;
                case "--journeys":
                    settings = settings with { Journeys = int.Parse(Value(), CultureInfo.InvariantCulture) };
                    break;
                case "--soak-journeys":
                    settings = settings with { SoakJourneys = int.Parse(Value(), CultureInfo.InvariantCulture) };
                    break;
                case "--rate":
                    settings = settings with { Rate = double.Parse(Value(), CultureInfo.InvariantCulture) };
                    break;
                case "--faults":
                    settings = settings with { Faults = int.Parse(Value(), CultureInfo.InvariantCulture) };
                    break;
                case "--refund-every":
                    settings = settings with { RefundEvery = int.Parse(Value(), CultureInfo.InvariantCulture) };
                    break;
                case "--withdraw-every":
                    settings = settings with { WithdrawEvery = int.Parse(Value(), CultureInfo.InvariantCulture) };
                    break;
                case "--server-faults":
                    settings = settings with { ServerFaults = int.Parse(Value(), CultureInfo.InvariantCulture) };
                    break;
                case "--base-url":
                    baseUrl = new Uri(Value());
                    break;
                case var a when a.StartsWith("--", StringComparison.Ordinal):
                    throw new ArgumentException($"unknown option {a}");
                default:
                    scenarios.Add(args[i]);
                    break;
            }
        }

        return (settings, baseUrl, scenarios);
    }
}
