using System.Text;
using Dapper;
using Dmh.Contracts;
using Microsoft.Extensions.Options;
using MySqlConnector;

namespace Dmh.Settlement.Tracking;

/// <summary>
/// Adds tracking batches to the rollups (track_rollups per local day and hour, track_visitors for
/// unique visitors) in one transaction per stream batch. A batch key already in track_batches is
/// skipped, so a redelivered entry or a batch the page sent twice counts once.
/// </summary>
public sealed class TrackRollupStore(MySqlDataSource dataSource, IOptions<TrackingOptions> options, ILogger<TrackRollupStore> logger)
{
    public const int MaxChannelLength = 64;
    public const int MaxReferrerLength = 16;
    public const int MaxIdLength = 64;

    private readonly TimeZoneInfo _zone = options.Value.ResolveZone();

    private sealed record RollupKey(char Gran, DateTime Bucket, long CampaignId, string Channel, string Referrer);

    private sealed class Counts
    {
        public long Views;
        public long FormStarts;
        public long Submits;
        public long PayStarts;
        public readonly SortedSet<string> Visitors = new(StringComparer.Ordinal);
    }

    public static string KeyOf(TrackBatch batch) => batch.VisitorId + ":" + batch.BatchId;

    /// <summary>Counts the batches not counted before; returns how many that was.</summary>
    public async Task<int> ApplyAsync(IReadOnlyList<TrackBatch> batches, CancellationToken ct)
    {
        // The first of several entries with one key wins (the page sent the batch twice).
        var unique = batches.GroupBy(KeyOf, StringComparer.Ordinal).Select(g => g.First()).ToList();
        for (var attempt = 0; ; attempt++)
        {
            try
            {
                return await ApplyOnceAsync(unique, ct);
            }
            catch (MySqlException ex) when (attempt < options.Value.MaxTransactionRetries
                && ex.ErrorCode is MySqlErrorCode.LockDeadlock or MySqlErrorCode.LockWaitTimeout)
            {
                logger.LogWarning("Tracking rollup transaction retried after {Error}", ex.ErrorCode);
            }
        }
    }

    private async Task<int> ApplyOnceAsync(List<TrackBatch> batches, CancellationToken ct)
    {
        await using var connection = await dataSource.OpenConnectionAsync(ct);
        // Batches of campaigns that do not exist are dropped: anyone can post to /api/v1/track.
        var campaignIds = batches.Select(b => b.CampaignId).Distinct().ToArray();
        var known = (await connection.QueryAsync<long>(new CommandDefinition(
            "SELECT id FROM campaigns WHERE id IN @campaignIds", new { campaignIds }, cancellationToken: ct))).ToHashSet();
        batches = batches.Where(b => known.Contains(b.CampaignId)).ToList();
        if (batches.Count == 0)
        {
            return 0;
        }

        await using var tx = await connection.BeginTransactionAsync(ct);
        var token = Guid.NewGuid().ToString("N");
        var keys = batches.Select(KeyOf).Order(StringComparer.Ordinal).ToArray();
        var insert = new StringBuilder("INSERT IGNORE INTO track_batches (batch_key, token, received_at) VALUES ");
        var p = new DynamicParameters();
        p.Add("token", token);
        for (var i = 0; i < batches.Count; i++)
        {
            insert.Append(i == 0 ? "" : ",").Append($"(@k{i}, @token, @r{i})");
            p.Add("k" + i, KeyOf(batches[i]));
            p.Add("r" + i, batches[i].ReceivedAt.UtcDateTime);
        }

        await connection.ExecuteAsync(new CommandDefinition(insert.ToString(), p, tx, cancellationToken: ct));
        // Rows with this transaction's token are the ones it inserted: the batches not counted before.
        var fresh = (await connection.QueryAsync<string>(new CommandDefinition(
            "SELECT batch_key FROM track_batches WHERE batch_key IN @keys AND token = @token", new { keys, token }, tx, cancellationToken: ct)))
            .ToHashSet(StringComparer.Ordinal);
        var counts = Aggregate(batches.Where(b => fresh.Contains(KeyOf(b))));
        if (counts.Count > 0)
        {
            await UpsertAsync(connection, tx, counts, ct);
        }

        await tx.CommitAsync(ct);
        return fresh.Count;
    }

    private SortedDictionary<RollupKey, Counts> Aggregate(IEnumerable<TrackBatch> batches)
    {
        // Sorted, so concurrent workers lock rows in the same order.
        var counts = new SortedDictionary<RollupKey, Counts>(Comparer<RollupKey>.Create((a, b) =>
        {
            var c = a.Gran.CompareTo(b.Gran);
            c = c != 0 ? c : a.CampaignId.CompareTo(b.CampaignId);
            c = c != 0 ? c : a.Bucket.CompareTo(b.Bucket);
            c = c != 0 ? c : string.CompareOrdinal(a.Channel, b.Channel);
            return c != 0 ? c : string.CompareOrdinal(a.Referrer, b.Referrer);
        }));
        foreach (var batch in batches)
        {
            var local = TimeZoneInfo.ConvertTime(batch.ReceivedAt, _zone).DateTime;
            var day = local.Date;
            var hour = day.AddHours(local.Hour);
            foreach (var key in new[] { new RollupKey('d', day, batch.CampaignId, batch.Channel, batch.Referrer), new RollupKey('h', hour, batch.CampaignId, batch.Channel, batch.Referrer) })
            {
                if (!counts.TryGetValue(key, out var c))
                {
                    counts[key] = c = new Counts();
                }

                c.Visitors.Add(batch.VisitorId);
                foreach (var e in batch.Events)
                {
                    switch (e)
                    {
                        case TrackEvents.View: c.Views++; break;
                        case TrackEvents.FormStart: c.FormStarts++; break;
                        case TrackEvents.Submit: c.Submits++; break;
                        case TrackEvents.PayStart: c.PayStarts++; break;
                        default: break;
                    }
                }
            }
        }

        return counts;
    }

    /// <summary>
    /// Per rollup key: INSERT IGNORE its visitors, then add the events and ROW_COUNT() (the visitors
    /// that were new) to the rollup row. One round trip for the whole batch.
    /// </summary>
    private static async Task UpsertAsync(MySqlConnection connection, MySqlTransaction tx, SortedDictionary<RollupKey, Counts> counts, CancellationToken ct)
    {
        var sql = new StringBuilder();
        var p = new DynamicParameters();
        var i = 0;
        var v = 0;
        foreach (var (key, c) in counts)
        {
            p.Add($"g{i}", key.Gran.ToString());
            p.Add($"b{i}", key.Bucket);
            p.Add($"c{i}", key.CampaignId);
            p.Add($"ch{i}", key.Channel);
            p.Add($"rf{i}", key.Referrer);
            sql.Append("INSERT IGNORE INTO track_visitors (gran, bucket, campaign_id, channel, referrer, visitor_id) VALUES ");
            var first = true;
            foreach (var visitor in c.Visitors)
            {
                sql.Append(first ? "" : ",").Append($"(@g{i}, @b{i}, @c{i}, @ch{i}, @rf{i}, @v{v})");
                p.Add($"v{v}", visitor);
                v++;
                first = false;
            }

            sql.Append(";\n");
            sql.Append($"""
                INSERT INTO track_rollups (gran, bucket, campaign_id, channel, referrer, views, visitors, form_starts, submits, pay_starts)
                VALUES (@g{i}, @b{i}, @c{i}, @ch{i}, @rf{i}, {c.Views}, ROW_COUNT(), {c.FormStarts}, {c.Submits}, {c.PayStarts})
                ON DUPLICATE KEY UPDATE views = views + VALUES(views), visitors = visitors + VALUES(visitors),
                  form_starts = form_starts + VALUES(form_starts), submits = submits + VALUES(submits), pay_starts = pay_starts + VALUES(pay_starts);

                """);
            i++;
        }

        await connection.ExecuteAsync(new CommandDefinition(sql.ToString(), p, tx, cancellationToken: ct));
    }
}
