using System.Globalization;
using System.Text;
using Dapper;
using Dmh.Contracts;
using Dmh.Platform.Hosting;
using Dmh.Platform.Streams;
using Microsoft.Extensions.Options;
using MySqlConnector;
using Prometheus;

namespace Dmh.Settlement.Notices;

/// <summary>
/// Turns committed <c>reward_ledger</c> rows of the kinds credit, reversal and payout into
/// <see cref="RewardChanged"/> events on <c>dmh:reward-changed</c>, outside every money transaction:
/// settlement never waits for a notice. Each row gets one <c>reward_notices</c> row (keyed by the
/// ledger id, so a second sweep adds nothing), written with <c>published_at</c> set, then its event is
/// published; a failed publish clears <c>published_at</c> for the next sweep, and a crash in between
/// leaves the row to the notifier's own sweep (a published notice nobody claimed within StaleAfter).
/// One instance at a time (a MySQL named lock per database), on <see cref="TimeProvider"/> time.
/// </summary>
public sealed class RewardChangeSweeper(
    MySqlDataSource dataSource,
    StreamPublisher publisher,
    IOptions<RewardChangeOptions> options,
    TimeProvider time,
    ILogger<RewardChangeSweeper> logger) : BackgroundService
{
    private const string LockName = "CONCAT('dmh_reward_notices:', DATABASE())";

    private static readonly Counter Published = Metrics.CreateCounter(
        "dmh_reward_changes_published_total", "RewardChanged events published, by kind.", "kind");

    private static readonly Counter TooOld = Metrics.CreateCounter(
        "dmh_reward_changes_too_old_total", "Ledger rows first seen after Notices:Sweeper:MaxAge, recorded as skipped.");

    // Ids missing below the cursor are remembered at most this many at a time (a burst of rolled-back ids).
    private const int MaxGaps = 10_000;

    private readonly RewardChangeOptions _options = options.Value;

    // Highest ledger id read by this process (-1: not yet), and ids missing below it with when they were first missed.
    private long _cursor = -1;
    private readonly Dictionary<long, DateTime> _gaps = [];

    private sealed record Unpublished(long LedgerId, long UserId, string Kind, long AmountFen, long? CampaignId, DateTime LedgerCreatedAt);

    protected override Task ExecuteAsync(CancellationToken stoppingToken) =>
        PeriodicSweep.RunAsync(SweepAsync, _options.Interval, time, logger, "Reward change sweep", stoppingToken);

    /// <summary>One sweep; returns how many events it published (0 when another instance holds the lock).</summary>
    public async Task<int> SweepAsync(CancellationToken ct)
    {
        await using var connection = await dataSource.OpenConnectionAsync(ct);
        if (await connection.ExecuteScalarAsync<long?>($"SELECT GET_LOCK({LockName}, 0)") != 1)
        {
            return 0;
        }

        try
        {
            await RecordNewRowsAsync(connection, ct);
            return await PublishAsync(connection, ct);
        }
        finally
        {
            await connection.ExecuteScalarAsync<long?>($"SELECT RELEASE_LOCK({LockName})");
        }
    }

    private async Task RecordNewRowsAsync(MySqlConnection connection, CancellationToken ct)
    {
        // Whole milliseconds, as published_at stores them: InsertAsync finds the rows it wrote by this stamp.
        var now = time.GetUtcNow().UtcDateTime;
        now = now.AddTicks(-(now.Ticks % TimeSpan.TicksPerMillisecond));
        if (_cursor < 0)
        {
            // First sweep of this process: read back to the newest announced row older than the lookback
            // (below it every row has committed, or is announced already), since what was pending before a
            // restart is not known.
            _cursor = await connection.ExecuteScalarAsync<long>(new CommandDefinition("""
                SELECT GREATEST(
                    (SELECT ledger_id FROM reward_notice_start WHERE id = 1),
                    COALESCE((SELECT ledger_id FROM reward_notices WHERE ledger_created_at < @cutoff ORDER BY ledger_id DESC LIMIT 1), 0))
                """, new { cutoff = now - _options.Lookback }, cancellationToken: ct));
        }

        // Ids are handed out at INSERT and rows appear at COMMIT: an id missing below the cursor may still
        // commit (or never will: a rollback, or an INSERT IGNORE that met a duplicate). Missing ids are
        // looked up again until the lookback has passed.
        foreach (var expired in _gaps.Where(g => g.Value < now - _options.Lookback).Select(g => g.Key).ToList())
        {
            _gaps.Remove(expired);
        }

        if (_gaps.Count > 0)
        {
            var late = await ReadAsync(connection, "l.id IN @ids", new { ids = _gaps.Keys.ToArray() }, ct);
            foreach (var row in late)
            {
                _gaps.Remove(row.LedgerId);
            }

            await InsertAsync(connection, late, now, ct);
        }

        while (true)
        {
            // A plain read of every kind (to see the gaps), then an insert of the announced ones: an
            // INSERT ... SELECT would lock the ledger's index range and make settlement's next row wait.
            var rows = await ReadAsync(connection, "l.id > @cursor ORDER BY l.id LIMIT @limit", new { cursor = _cursor, limit = _options.BatchSize }, ct);
            if (rows.Count == 0)
            {
                return;
            }

            var expected = _cursor + 1;
            foreach (var row in rows)
            {
                for (var id = expected; id < row.LedgerId && _gaps.Count < MaxGaps; id++)
                {
                    _gaps.TryAdd(id, now);
                }

                expected = row.LedgerId + 1;
            }

            await InsertAsync(connection, rows, now, ct);
            _cursor = rows[^1].LedgerId;
            if (rows.Count < _options.BatchSize)
            {
                return;
            }
        }
    }

    private static async Task<List<Unpublished>> ReadAsync(MySqlConnection connection, string where, object args, CancellationToken ct) =>
        (await connection.QueryAsync<Unpublished>(new CommandDefinition($"""
            SELECT l.id AS LedgerId, l.user_id AS UserId, l.kind AS Kind,
                   CAST(CASE l.kind WHEN 'payout' THEN l.paid_out_delta_fen WHEN 'reversal' THEN -l.earned_delta_fen ELSE l.earned_delta_fen END AS SIGNED) AS AmountFen,
                   r.campaign_id AS CampaignId, l.created_at AS LedgerCreatedAt
            FROM reward_ledger l
            LEFT JOIN rewards r ON r.id = l.reward_id
            WHERE {where}
            """, args, cancellationToken: ct))).ToList();

    /// <summary>Records the announced kinds among <paramref name="rows"/>; one already recorded is left as it is.</summary>
    private async Task InsertAsync(MySqlConnection connection, List<Unpublished> rows, DateTime now, CancellationToken ct)
    {
        var announced = rows.Where(r => RewardChangeKinds.All.Contains(r.Kind)).ToList();
        if (announced.Count == 0)
        {
            return;
        }

        var tooOld = now - _options.MaxAge;
        var inserted = await connection.ExecuteAsync(new CommandDefinition(InsertSql(announced.Count), InsertParameters(announced, tooOld, now), cancellationToken: ct));
        var stale = announced.Count(f => f.LedgerCreatedAt < tooOld);
        if (stale > 0)
        {
            TooOld.Inc(stale);
            logger.LogWarning("{Count} reward changes were older than {MaxAge} when first seen: recorded as skipped, not announced", stale, _options.MaxAge);
        }

        var fresh = announced.Where(r => r.LedgerCreatedAt >= tooOld).ToList();
        if (inserted < announced.Count && fresh.Count > 0)
        {
            // Some were recorded already (read again after a restart): only the rows this statement wrote (stamped @now) go out.
            var mine = (await connection.QueryAsync<long>(new CommandDefinition(
                "SELECT ledger_id FROM reward_notices WHERE ledger_id IN @ids AND published_at = @now",
                new { ids = fresh.Select(r => r.LedgerId).ToArray(), now }, cancellationToken: ct))).ToHashSet();
            fresh = [.. fresh.Where(r => mine.Contains(r.LedgerId))];
        }

        try
        {
            await PublishEventsAsync(fresh);
        }
        catch (Exception ex) when (ex is StackExchange.Redis.RedisException or TimeoutException)
        {
            // Handed back to the next sweep's PublishAsync; if this fails too, the notifier's sweep sends them after StaleAfter.
            logger.LogWarning(ex, "Publishing {Count} reward changes failed; the next sweep publishes them", fresh.Count);
            await connection.ExecuteAsync(new CommandDefinition(
                "UPDATE reward_notices SET published_at = NULL WHERE ledger_id IN @ids AND status = 'pending'",
                new { ids = fresh.Select(r => r.LedgerId).ToArray() }, cancellationToken: ct));
        }
    }

    private async Task PublishEventsAsync(List<Unpublished> notices)
    {
        await Task.WhenAll(notices.Select(n =>
        {
            var change = new RewardChanged(n.LedgerId, n.UserId, n.Kind, n.AmountFen, n.CampaignId,
                new DateTimeOffset(DateTime.SpecifyKind(n.LedgerCreatedAt, DateTimeKind.Utc)));
            return publisher.PublishAsync(StreamNames.RewardChanged, MessageTypes.RewardChanged, change.Key, change);
        }));
        foreach (var n in notices)
        {
            Published.WithLabels(n.Kind).Inc();
        }
    }

    /// <summary>One multi-row INSERT IGNORE for a batch (a row announced meanwhile is kept as it is).</summary>
    private static string InsertSql(int rows)
    {
        var sql = new StringBuilder("""
            INSERT IGNORE INTO reward_notices (ledger_id, user_id, kind, amount_fen, campaign_id, ledger_created_at, status, channel, last_error, published_at) VALUES
            """);
        for (var i = 0; i < rows; i++)
        {
            sql.Append(i == 0 ? " " : ", ").Append(CultureInfo.InvariantCulture,
                $"(@l{i}, @u{i}, @k{i}, @a{i}, @c{i}, @t{i}, @s{i}, @ch{i}, @e{i}, @p{i})");
        }

        return sql.ToString();
    }

    private static DynamicParameters InsertParameters(List<Unpublished> found, DateTime tooOld, DateTime now)
    {
        var parameters = new DynamicParameters();
        for (var i = 0; i < found.Count; i++)
        {
            var f = found[i];
            var old = f.LedgerCreatedAt < tooOld;
            parameters.Add("l" + i, f.LedgerId);
            parameters.Add("u" + i, f.UserId);
            parameters.Add("k" + i, f.Kind);
            parameters.Add("a" + i, f.AmountFen);
            parameters.Add("c" + i, f.CampaignId);
            parameters.Add("t" + i, f.LedgerCreatedAt);
            parameters.Add("s" + i, old ? "skipped" : "pending");
            parameters.Add("ch" + i, old ? "none" : null);
            parameters.Add("e" + i, old ? "older than Notices:Sweeper:MaxAge when first seen" : null);
            // Stamped as published with the insert: InsertAsync publishes right after it (an UPDATE per
            // row afterwards cost more than the insert), and a failed publish clears the stamp again.
            parameters.Add("p" + i, now);
        }

        return parameters;
    }

    private async Task<int> PublishAsync(MySqlConnection connection, CancellationToken ct)
    {
        var published = 0;
        while (true)
        {
            var batch = (await connection.QueryAsync<Unpublished>(new CommandDefinition("""
                SELECT ledger_id AS LedgerId, user_id AS UserId, kind AS Kind, amount_fen AS AmountFen, campaign_id AS CampaignId, ledger_created_at AS LedgerCreatedAt
                FROM reward_notices WHERE published_at IS NULL ORDER BY ledger_id LIMIT @limit
                """, new { limit = _options.BatchSize }, cancellationToken: ct))).ToList();
            if (batch.Count == 0)
            {
                return published;
            }

            await PublishEventsAsync(batch);
            await connection.ExecuteAsync(new CommandDefinition(
                "UPDATE reward_notices SET published_at = @now WHERE ledger_id IN @ids AND published_at IS NULL",
                new { now = time.GetUtcNow().UtcDateTime, ids = batch.Select(n => n.LedgerId).ToArray() }, cancellationToken: ct));
            published += batch.Count;
            if (batch.Count < _options.BatchSize)
            {
                return published;
            }
        }
    }
}
