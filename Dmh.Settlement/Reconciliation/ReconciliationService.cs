using Dapper;
using Dmh.Contracts;
using Dmh.Platform.Hosting;
using Dmh.Platform.Rewards;
using Dmh.Platform.Streams;
using Dmh.Settlement.Settling;
using Dmh.WechatPay;
using Microsoft.Extensions.Options;
using MySqlConnector;
using Prometheus;

namespace Dmh.Settlement.Reconciliation;

/// <summary>
/// Asks the provider about payment attempts left unpaid (a lost notify, a closed page): SUCCESS is
/// settled as a <see cref="PaymentSucceeded"/> (source <c>reconcile</c>) through the settlement
/// handler, the same idempotent path as the stream's entries (settlement may not publish to the
/// payments stream: Redis ACL). An attempt that settlement refuses is asked about again only after a
/// growing pause, and after <see cref="ReconciliationOptions.MaxRefusals"/> refusals no more: it is
/// marked (<c>reconcile_stopped_at</c>) and logged for an operator. NOTPAY past
/// <see cref="ReconciliationOptions.ExpireAfter"/> is closed at the provider, then locally. A MySQL
/// named lock keeps several instances from sweeping at once. Refunds left created/processing are asked
/// about too (issue 17): a SUCCESS reverses the order's rewards as the notify would.
/// </summary>
public sealed class ReconciliationService(
    MySqlDataSource dataSource,
    IPaymentProvider provider,
    IPaymentSettler settler,
    IOptions<ReconciliationOptions> options,
    TimeProvider time,
    ILogger<ReconciliationService> logger) : BackgroundService
{
    // Per database: several DMH databases (environments, test runs) may share one server.
    private const string LockName = "CONCAT('dmh_reconciliation:', DATABASE())";

    private static readonly Counter Outcomes = Metrics.CreateCounter(
        "dmh_reconciliation_attempts_total", "Payment attempts queried by reconciliation, by outcome.", "outcome");
    private static readonly Counter RefundWithoutSuccess = Metrics.CreateCounter(
        "dmh_reconciliation_refund_without_success_total", "The provider reports REFUND for an attempt DMH never recorded as paid.");

    private static readonly Counter RefundOutcomes = Metrics.CreateCounter(
        "dmh_reconciliation_refunds_total", "Refunds queried by reconciliation, by outcome (success, closed, abnormal, processing, not_exist, error).", "outcome");

    private readonly ReconciliationOptions _options = options.Value;

    protected override Task ExecuteAsync(CancellationToken stoppingToken) =>
        PeriodicSweep.RunAsync(SweepAsync, _options.Interval, time, logger, "Reconciliation sweep", stoppingToken);

    /// <summary>One sweep; returns the number of attempts looked at (0 when another instance holds the lock).</summary>
    public async Task<int> SweepAsync(CancellationToken ct)
    {
        await using var lockConnection = await dataSource.OpenConnectionAsync(ct);
        if (await lockConnection.ExecuteScalarAsync<long?>($"SELECT GET_LOCK({LockName}, 0)") != 1)
        {
            return 0;
        }

        try
        {
            var now = time.GetUtcNow();
            var due = (await lockConnection.QueryAsync<Attempt>(new CommandDefinition("""
                SELECT id AS Id, order_id AS OrderId, out_trade_no AS OutTradeNo, created_at AS CreatedAt, reconcile_refusals AS Refusals
                FROM payments
                WHERE status IN ('created', 'prepaid') AND created_at <= @QueryBefore AND created_at >= @NotBefore
                  AND (last_reconciled_at IS NULL OR last_reconciled_at <= @QueryBefore)
                  AND reconcile_stopped_at IS NULL AND (reconcile_not_before IS NULL OR reconcile_not_before <= @Now)
                ORDER BY id
                LIMIT @Limit
                """, new
            {
                Now = now.UtcDateTime,
                QueryBefore = (now - _options.QueryAfter).UtcDateTime,
                NotBefore = (now - _options.MaxAge).UtcDateTime,
                Limit = _options.BatchSize,
            }, cancellationToken: ct))).ToList();

            if (due.Count > 0)
            {
                await lockConnection.ExecuteAsync(new CommandDefinition(
                    "UPDATE payments SET last_reconciled_at = @Now WHERE id IN @Ids",
                    new { Now = now.UtcDateTime, Ids = due.Select(a => a.Id).ToArray() }, cancellationToken: ct));
            }

            foreach (var attempt in due)
            {
                try
                {
                    await ReconcileAsync(attempt, now, ct);
                }
                catch (Exception ex) when (ex is not OperationCanceledException)
                {
                    Outcomes.WithLabels("error").Inc();
                    logger.LogWarning(ex, "Reconciling {OutTradeNo} failed; retried next sweep", attempt.OutTradeNo);
                }
            }

            return due.Count + await SweepRefundsAsync(lockConnection, now, ct);
        }
        finally
        {
            await lockConnection.ExecuteScalarAsync<long?>($"SELECT RELEASE_LOCK({LockName})");
        }
    }

    /// <summary>
    /// Refunds still created/processing after QueryAfter (their notify lost, or the call's answer): asked
    /// about at WeChat, and a final answer recorded through <see cref="RefundRecorder"/>, the notify's
    /// own code, so a SUCCESS reverses the rewards once however it is learnt.
    /// </summary>
    private async Task<int> SweepRefundsAsync(MySqlConnection connection, DateTimeOffset now, CancellationToken ct)
    {
        var due = (await connection.QueryAsync<(long Id, string OutRefundNo)>(new CommandDefinition("""
            SELECT id, out_refund_no FROM refunds
            WHERE status IN ('created', 'processing') AND created_at <= @QueryBefore AND created_at >= @NotBefore
              AND (last_reconciled_at IS NULL OR last_reconciled_at <= @QueryBefore)
            ORDER BY id
            LIMIT @Limit
            """, new
        {
            QueryBefore = (now - _options.QueryAfter).UtcDateTime,
            NotBefore = (now - _options.MaxAge).UtcDateTime,
            Limit = _options.BatchSize,
        }, cancellationToken: ct))).ToList();
        if (due.Count == 0)
        {
            return 0;
        }

        await connection.ExecuteAsync(new CommandDefinition(
            "UPDATE refunds SET last_reconciled_at = @Now WHERE id IN @Ids",
            new { Now = now.UtcDateTime, Ids = due.Select(r => r.Id).ToArray() }, cancellationToken: ct));
        foreach (var (_, outRefundNo) in due)
        {
            try
            {
                var result = await provider.QueryRefundAsync(outRefundNo, ct);
                var status = RefundStatus.FromWechat(result.Status);
                if (result.Status == RefundQueryResult.NotExist || !RefundStatus.IsFinal(status))
                {
                    RefundOutcomes.WithLabels(result.Status == RefundQueryResult.NotExist ? "not_exist" : "processing").Inc();
                    continue;
                }

                await RefundRecorder.RecordAsync(dataSource, time, outRefundNo, result.RefundId, status, result.SuccessTime, now, ct);
                RefundOutcomes.WithLabels(status).Inc();
                logger.LogInformation("Reconciliation found refund {OutRefundNo} {Status}", outRefundNo, status);
            }
            catch (Exception ex) when (ex is not OperationCanceledException)
            {
                RefundOutcomes.WithLabels("error").Inc();
                logger.LogWarning(ex, "Reconciling refund {OutRefundNo} failed; retried after QueryAfter", outRefundNo);
            }
        }

        return due.Count;
    }

    private async Task ReconcileAsync(Attempt attempt, DateTimeOffset now, CancellationToken ct)
    {
        var result = await provider.QueryAsync(attempt.OutTradeNo, ct);
        switch (result.State)
        {
            case TradeQueryResult.Success:
                if (result.TransactionId is null || result.TotalFen is null)
                {
                    Outcomes.WithLabels("invalid").Inc();
                    logger.LogWarning("Provider says {OutTradeNo} is SUCCESS without transaction id or amount", attempt.OutTradeNo);
                    return;
                }

                var payment = new PaymentSucceeded(attempt.OutTradeNo, result.TransactionId, result.TotalFen.Value,
                    result.PayerTotalFen ?? result.TotalFen.Value, result.SuccessTime ?? now, now, PaymentSources.Reconcile);
                var settled = await settler.SettleAsync(payment, ct);
                if (settled.IsDone)
                {
                    Outcomes.WithLabels("success").Inc();
                    logger.LogInformation("Reconciliation found {OutTradeNo} paid ({TransactionId}) and settled it",
                        attempt.OutTradeNo, result.TransactionId);
                }
                else if (settled.Outcome == MessageOutcome.Postponed)
                {
                    Outcomes.WithLabels("error").Inc();
                    logger.LogWarning("Reconciliation found {OutTradeNo} paid but MySQL is unreachable; retried next sweep", attempt.OutTradeNo);
                }
                else
                {
                    await RecordRefusalAsync(attempt, settled.Error ?? "refused", now, ct);
                }

                break;

            case TradeQueryResult.NotPay when now - attempt.CreatedAtUtc >= _options.ExpireAfter:
                await provider.CloseAsync(attempt.OutTradeNo, ct);
                await CloseLocallyAsync(attempt, ct);
                Outcomes.WithLabels("closed").Inc();
                logger.LogInformation("Closed expired unpaid attempt {OutTradeNo} of order {OrderId}", attempt.OutTradeNo, attempt.OrderId);
                break;

            case TradeQueryResult.Closed:
                await CloseLocallyAsync(attempt, ct);
                Outcomes.WithLabels("closed").Inc();
                break;

            case TradeQueryResult.Refund:
                RefundWithoutSuccess.Inc();
                Outcomes.WithLabels("refund_without_success").Inc();
                logger.LogWarning("Provider reports {OutTradeNo} (order {OrderId}) REFUND but DMH never recorded it paid",
                    attempt.OutTradeNo, attempt.OrderId);
                break;

            case TradeQueryResult.OrderNotExist:
                // The provider does not know it (prepay never reached it): nothing was paid, and the
                // local order stays as it is so the registrant can pay again.
                Outcomes.WithLabels("not_exist").Inc();
                break;

            default:
                Outcomes.WithLabels("unpaid").Inc();
                break;
        }
    }

    /// <summary>Asks again only after QueryAfter (at least one Interval) times 2^refusals; stops after MaxRefusals.</summary>
    private async Task RecordRefusalAsync(Attempt attempt, string error, DateTimeOffset now, CancellationToken ct)
    {
        var refusals = attempt.Refusals + 1;
        var stop = refusals >= _options.MaxRefusals;
        var pause = TimeSpan.FromTicks((_options.QueryAfter > _options.Interval ? _options.QueryAfter : _options.Interval).Ticks * (1L << Math.Min(refusals, 20)));
        await using var connection = await dataSource.OpenConnectionAsync(ct);
        await connection.ExecuteAsync(new CommandDefinition(
            "UPDATE payments SET reconcile_refusals = @Refusals, reconcile_not_before = @NotBefore, reconcile_stopped_at = @StoppedAt WHERE id = @Id",
            new
            {
                attempt.Id,
                Refusals = refusals,
                NotBefore = stop ? (DateTime?)null : (now + pause).UtcDateTime,
                StoppedAt = stop ? now.UtcDateTime : (DateTime?)null,
            }, cancellationToken: ct));
        if (stop)
        {
            Outcomes.WithLabels("stopped").Inc();
            logger.LogError("Reconciliation stops settling {OutTradeNo} (order {OrderId}), paid at the provider: settlement refused it {Refusals} times ({Error}); an operator must look at it",
                attempt.OutTradeNo, attempt.OrderId, refusals, error);
        }
        else
        {
            Outcomes.WithLabels("refused").Inc();
            logger.LogWarning("Settlement refused {OutTradeNo}, paid at the provider ({Error}); asked again after {Pause}",
                attempt.OutTradeNo, error, pause);
        }
    }

    private async Task CloseLocallyAsync(Attempt attempt, CancellationToken ct)
    {
        await using var connection = await dataSource.OpenConnectionAsync(ct);
        await using var tx = await connection.BeginTransactionAsync(System.Data.IsolationLevel.ReadCommitted, ct);
        var closed = await connection.ExecuteAsync(new CommandDefinition(
            "UPDATE payments SET status = 'closed' WHERE id = @Id AND status IN ('created', 'prepaid')",
            new { attempt.Id }, tx, cancellationToken: ct));
        if (closed == 1)
        {
            // Only an unpaid order with no other open attempt: a newer attempt may still be paid.
            await connection.ExecuteAsync(new CommandDefinition("""
                UPDATE orders SET status = 'closed'
                WHERE id = @OrderId AND pay_status = 'unpaid' AND status = 'pending'
                  AND NOT EXISTS (SELECT 1 FROM payments WHERE order_id = @OrderId AND status IN ('created', 'prepaid', 'succeeded'))
                """, new { attempt.OrderId }, tx, cancellationToken: ct));
        }

        await tx.CommitAsync(ct);
    }

    private sealed record Attempt(long Id, long OrderId, string OutTradeNo, DateTime CreatedAt, int Refusals)
    {
        public DateTimeOffset CreatedAtUtc => new(DateTime.SpecifyKind(CreatedAt, DateTimeKind.Utc));
    }
}
