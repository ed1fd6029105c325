using Prometheus;

namespace Dmh.Settlement.Settling;

internal static class SettlementMetrics
{
    public static readonly Histogram Latency = Metrics.CreateHistogram(
        "dmh_settlement_latency_seconds", "From the payment confirmation being accepted (receivedAt) to the settlement commit.",
        new HistogramConfiguration
        {
            Buckets = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2, 5, 10, 30],
        });

    public static readonly Histogram BatchSize = Metrics.CreateHistogram(
        "dmh_settlement_batch_size", "Payments per batch handed to the settlement handler.",
        new HistogramConfiguration { Buckets = [1, 2, 5, 10, 20, 50, 100, 200, 500, 1000] });

    public static readonly Histogram TransactionSize = Metrics.CreateHistogram(
        "dmh_settlement_transaction_payments", "Payments per settlement transaction.",
        new HistogramConfiguration { Buckets = [1, 2, 5, 10, 20, 50, 100, 200, 500, 1000] });

    public static readonly Counter Splits = Metrics.CreateCounter(
        "dmh_settlement_batch_splits_total", "Settlement transactions that failed as a whole and were settled again in halves.");

    public static readonly Counter LockConflicts = Metrics.CreateCounter(
        "dmh_settlement_lock_conflicts_total", "Balances whose version changed between read and update (updated again under the version locked).");

    public static readonly Counter Payments = Metrics.CreateCounter(
        "dmh_settlement_payments_total", "Payments by outcome (settled, duplicate, failed, postponed, rejected).", "outcome");

    public static readonly Counter DoublePayments = Metrics.CreateCounter(
        "dmh_settlement_double_payments_total", "A second payment attempt of an already paid order succeeded (needs a refund).");
}
