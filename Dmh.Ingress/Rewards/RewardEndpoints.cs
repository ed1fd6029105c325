using System.Security.Claims;
using Dapper;
using Dmh.Ingress.Audit;
using Dmh.Ingress.Exports;
using Dmh.Ingress.Http;
using Dmh.Ingress.Orders;
using Dmh.Ingress.Participants;
using Dmh.Ingress.Security;
using Dmh.Ingress.Stats;
using Dmh.Platform.Rewards;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.Extensions.Options;
using MySqlConnector;

namespace Dmh.Ingress.Rewards;

/// <summary>Referrers' balances and rewards: the participant themself (H5 session) or an admin.</summary>
public static class RewardEndpoints
{
    public const int MaxPageSize = 100;

    public static IEndpointRouteBuilder MapRewardEndpoints(this IEndpointRouteBuilder app)
    {
        var rewards = app.MapGroup("/api/v1/rewards").WithTags("Rewards");
        rewards.MapGet("/", ListReferrersAsync).RequireAuthorization(Policies.AdminRead);
        rewards.MapGet("/balance/{userId:long}", GetBalanceAsync).RequireAuthorization();
        rewards.MapGet("/{userId:long}", ListRewardsAsync).RequireAuthorization();
        rewards.MapGet("/records", ListRecordsAsync).RequireAuthorization(Policies.AdminRead);
        rewards.MapGet("/records/export.xlsx", ExportRecordsAsync).RequireAuthorization(Policies.AdminRead);
        rewards.MapGet("/{userId:long}/ledger", ListLedgerAsync).RequireAuthorization(Policies.AdminRead);
        rewards.MapPost("/{userId:long}/adjustments", AdjustAsync).RequireAuthorization(Policies.AdminOnly);
        app.MapGet("/api/v1/me/rewards", GetMineAsync).WithTags("Rewards").RequireAuthorization(Policies.Participant);
        return app;
    }

    /// <summary>A participant's buckets; balanceFen (= frozen + available) and totalRewardFen (= totalEarned) are kept for old clients.</summary>
    public sealed record Balance(
        long UserId, long FrozenFen, long AvailableFen, long WithdrawingFen, long PaidOutFen, long TotalEarnedFen, long Version,
        long BalanceFen, long TotalRewardFen);

    public sealed record RewardItem(
        long Id, long OrderId, long CampaignId, string? CampaignTitle, string? FriendName, string FriendPhoneMasked, int Level,
        long AmountFen, long ReversedFen, string Status, DateTimeOffset? SettledAt, DateTimeOffset? AvailableAt);

    public sealed record RewardPage(IReadOnlyList<RewardItem> Items, long Total, int Page, int PageSize);

    public sealed record Referrer(
        long ParticipantId, string? Name, string PhoneMasked, long BalanceFen, long TotalRewardFen, long RewardCount,
        long FrozenFen, long AvailableFen, long WithdrawingFen, long PaidOutFen, long TotalEarnedFen);

    public sealed record ReferrerPage(IReadOnlyList<Referrer> Items, long Total, int Page, int PageSize);

    public sealed record MyRewards(
        long ParticipantId, string ReferralCode, long FrozenFen, long AvailableFen, long WithdrawingFen, long PaidOutFen, long TotalEarnedFen,
        long BalanceFen, long TotalRewardFen, IReadOnlyList<RewardItem> Items);

    public sealed record RecordItem(
        long Id, long UserId, string? Name, string PhoneMasked, long OrderId, long CampaignId, string? CampaignTitle, int Level,
        long AmountFen, long ReversedFen, string Status, DateTimeOffset? SettledAt, DateTimeOffset? AvailableAt);

    public sealed record RecordPage(IReadOnlyList<RecordItem> Items, long Total, int Page, int PageSize);

    public sealed record LedgerItem(
        long Id, string Kind, long FrozenDeltaFen, long AvailableDeltaFen, long WithdrawingDeltaFen, long PaidOutDeltaFen,
        long? RewardId, long? OrderId, string BusinessKey, string? Reason, string? Actor, DateTimeOffset CreatedAt);

    public sealed record LedgerPage(Balance Balance, IReadOnlyList<LedgerItem> Items, long Total, int Page, int PageSize);

    public sealed record AdjustmentCommand(long? AmountFen, string? Reason);

    public sealed record AdjustmentResult(LedgerItem Entry, Balance Balance);

    private static async Task<Results<Ok<Balance>, ProblemHttpResult>> GetBalanceAsync(long userId, ClaimsPrincipal user, MySqlDataSource db, CancellationToken ct)
    {
        if (!MayRead(user, userId))
        {
            return Forbidden();
        }

        await using var connection = await db.OpenConnectionAsync(ct);
        return TypedResults.Ok(await ReadBalanceAsync(connection, userId, ct));
    }

    private static async Task<Results<Ok<RewardPage>, ProblemHttpResult>> ListRewardsAsync(
        long userId, ClaimsPrincipal user, MySqlDataSource db, CancellationToken ct, int page = 1, int pageSize = 20)
    {
        if (!MayRead(user, userId))
        {
            return Forbidden();
        }

        if (BadPage(page, pageSize) is { } bad)
        {
            return bad;
        }

        await using var connection = await db.OpenConnectionAsync(ct);
        var total = await connection.ExecuteScalarAsync<long>(new CommandDefinition(
            "SELECT COUNT(*) FROM rewards WHERE user_id = @UserId", new { UserId = userId }, cancellationToken: ct));
        var items = await ReadRewardsAsync(connection, userId, (page - 1) * pageSize, pageSize, ct);
        return TypedResults.Ok(new RewardPage(items, total, page, pageSize));
    }

    private static async Task<Results<Ok<MyRewards>, ProblemHttpResult>> GetMineAsync(ClaimsPrincipal user, MySqlDataSource db, CancellationToken ct)
    {
        if (user.ParticipantId() is not { } id)
        {
            return Forbidden();
        }

        await using var connection = await db.OpenConnectionAsync(ct);
        var code = await connection.ExecuteScalarAsync<string?>(new CommandDefinition(
            "SELECT referral_code FROM participants WHERE id = @Id", new { Id = id }, cancellationToken: ct));
        if (code is null)
        {
            return Problems.NotFound("The participant");
        }

        var balance = await ReadBalanceAsync(connection, id, ct);
        var items = await ReadRewardsAsync(connection, id, 0, MaxPageSize, ct);
        return TypedResults.Ok(new MyRewards(id, code, balance.FrozenFen, balance.AvailableFen, balance.WithdrawingFen, balance.PaidOutFen,
            balance.TotalEarnedFen, balance.BalanceFen, balance.TotalRewardFen, items));
    }

    /// <param name="phone">Optional: the referrer's whole phone number (an operator looks one person up; no prefix search, so viewers learn nothing new).</param>
    private static async Task<Results<Ok<ReferrerPage>, ProblemHttpResult>> ListReferrersAsync(
        MySqlDataSource db, CancellationToken ct, int page = 1, int pageSize = 20, string? phone = null)
    {
        if (BadPage(page, pageSize) is { } bad)
        {
            return bad;
        }

        if (phone is not null && !PhoneNumbers.IsMainlandMobile(phone))
        {
            return Problems.Validation("phone", "phone is a whole mainland mobile number (11 digits).");
        }

        var where = phone is null ? "" : "WHERE p.phone = @Phone";
        await using var connection = await db.OpenConnectionAsync(ct);
        var total = await connection.ExecuteScalarAsync<long>(new CommandDefinition(
            $"SELECT COUNT(*) FROM user_balances b LEFT JOIN participants p ON p.id = b.user_id {where}", new { Phone = phone }, cancellationToken: ct));
        var rows = await connection.QueryAsync<ReferrerRow>(new CommandDefinition($"""
            SELECT b.user_id AS UserId, p.phone AS Phone, {NameOf("b.user_id")} AS Name,
                   (SELECT COUNT(*) FROM rewards r WHERE r.user_id = b.user_id) AS RewardCount,
                   b.frozen_fen AS FrozenFen, b.available_fen AS AvailableFen, b.withdrawing_fen AS WithdrawingFen,
                   b.paid_out_fen AS PaidOutFen, b.total_earned_fen AS TotalEarnedFen
            FROM user_balances b LEFT JOIN participants p ON p.id = b.user_id
            {where}
            ORDER BY b.total_earned_fen DESC, b.user_id
            LIMIT @Limit OFFSET @Offset
            """, new { Limit = pageSize, Offset = (page - 1) * pageSize, Phone = phone }, cancellationToken: ct));
        var items = rows.Select(r => new Referrer(r.UserId, r.Name, PhoneNumbers.Mask(r.Phone), r.FrozenFen + r.AvailableFen, r.TotalEarnedFen, r.RewardCount,
            r.FrozenFen, r.AvailableFen, r.WithdrawingFen, r.PaidOutFen, r.TotalEarnedFen)).ToList();
        return TypedResults.Ok(new ReferrerPage(items, total, page, pageSize));
    }

    private sealed record ReferrerRow(long UserId, string? Phone, string? Name, long RewardCount, long FrozenFen, long AvailableFen, long WithdrawingFen, long PaidOutFen, long TotalEarnedFen);

    /// <summary>The name the participant gave in their latest order's form (the reserved <c>name</c> key), if any.</summary>
    private static string NameOf(string participantId) => $"""
        (SELECT JSON_UNQUOTE(JSON_EXTRACT(o.form_data, '$.name')) FROM orders o WHERE o.participant_id = {participantId} ORDER BY o.id DESC LIMIT 1)
        """;

    private static async Task<Results<Ok<RecordPage>, ProblemHttpResult>> ListRecordsAsync(
        MySqlDataSource db, CancellationToken ct, long? campaignId = null, string? status = null, long? userId = null, int page = 1, int pageSize = 20)
    {
        if (BadPage(page, pageSize) is { } bad)
        {
            return bad;
        }

        if (BadStatus(status) is { } badStatus)
        {
            return badStatus;
        }

        var where = RecordsWhere(campaignId, status, userId);

        var args = new { campaignId, status, userId, Limit = pageSize, Offset = (page - 1) * pageSize };
        await using var connection = await db.OpenConnectionAsync(ct);
        var total = await connection.ExecuteScalarAsync<long>(new CommandDefinition($"SELECT COUNT(*) FROM rewards r WHERE {where}", args, cancellationToken: ct));
        var rows = await connection.QueryAsync<RecordRow>(new CommandDefinition($"""
            SELECT r.id AS Id, r.user_id AS UserId, {NameOf("r.user_id")} AS Name, p.phone AS Phone, r.order_id AS OrderId, r.campaign_id AS CampaignId,
                   c.name AS CampaignTitle, r.level AS Level, r.amount_fen AS AmountFen, r.reversed_fen AS ReversedFen, r.status AS Status,
                   r.settled_at AS SettledAt, r.available_at AS AvailableAt
            FROM rewards r LEFT JOIN participants p ON p.id = r.user_id LEFT JOIN campaigns c ON c.id = r.campaign_id
            WHERE {where} ORDER BY r.id DESC LIMIT @Limit OFFSET @Offset
            """, args, cancellationToken: ct));
        var items = rows.Select(r => new RecordItem(r.Id, r.UserId, r.Name, PhoneNumbers.Mask(r.Phone), r.OrderId, r.CampaignId, r.CampaignTitle, r.Level,
            r.AmountFen, r.ReversedFen, r.Status, Utc(r.SettledAt), Utc(r.AvailableAt))).ToList();
        return TypedResults.Ok(new RecordPage(items, total, page, pageSize));
    }

    /// <summary>The reward records of the same filters as an .xlsx (oldest first): referrer and friend by name and phone, yuan, Chinese statuses.</summary>
    private static async Task<Results<PushStreamHttpResult, ProblemHttpResult>> ExportRecordsAsync(
        HttpContext http, MySqlDataSource db, AuditLog audit, IOptions<StatsOptions> stats, TimeProvider time, CancellationToken ct,
        long? campaignId = null, string? status = null, long? userId = null)
    {
        if (BadStatus(status) is { } badStatus)
        {
            return badStatus;
        }

        string? campaignName = null;
        if (campaignId is not null)
        {
            await using var connection = await db.OpenConnectionAsync(ct);
            campaignName = await connection.ExecuteScalarAsync<string?>(new CommandDefinition(
                "SELECT name FROM campaigns WHERE id = @campaignId", new { campaignId }, cancellationToken: ct));
            if (campaignName is null)
            {
                return Problems.NotFound("The campaign");
            }
        }

        var zone = stats.Value.ResolveZone();
        var day = TimeZoneInfo.ConvertTime(time.GetUtcNow(), zone).ToString("yyyyMMdd", System.Globalization.CultureInfo.InvariantCulture);
        var name = $"奖励记录-{(campaignName is null ? "全部活动" : StatusWords.FileNamePart(campaignName))}-{day}.xlsx";
        var mask = OrderEndpoints.MasksPhones(http.User);
        await audit.WriteAsync(AuditEntry.Of(http, AuditActions.Export, "rewards", detail: new { campaignId, status, userId }), ct);
        return TypedResults.Stream(async stream =>
        {
            XlsxColumn[] columns =
            [
                new("奖励ID", 8), new("推荐人", 12), new("推荐人手机号", 14), new("活动名称", 22), new("订单ID", 10), new("好友", 12), new("好友手机号", 14),
                new("级别", 8), new("奖励金额(元)", 12), new("已冲正(元)", 12), new("状态", 10), new("结算时间", 20), new("可提现时间", 20),
            ];
            using var xlsx = new XlsxWriter("奖励记录", columns);
            await using var connection = await db.OpenConnectionAsync(ct);
            var rows = connection.QueryUnbufferedAsync<ExportRow>($"""
                SELECT r.id AS Id, {NameOf("r.user_id")} AS Name, p.phone AS Phone, c.name AS CampaignTitle, r.order_id AS OrderId,
                       JSON_UNQUOTE(JSON_EXTRACT(o.form_data, '$.name')) AS FriendName, o.phone AS FriendPhone, r.level AS Level,
                       r.amount_fen AS AmountFen, r.reversed_fen AS ReversedFen, r.status AS Status, r.settled_at AS SettledAt, r.available_at AS AvailableAt
                FROM rewards r LEFT JOIN participants p ON p.id = r.user_id LEFT JOIN campaigns c ON c.id = r.campaign_id LEFT JOIN orders o ON o.id = r.order_id
                WHERE {RecordsWhere(campaignId, status, userId)} ORDER BY r.id
                """, new { campaignId, status, userId });
            await foreach (var r in rows.WithCancellation(ct))
            {
                xlsx.AddRow([
                    r.Id, r.Name, Phone(r.Phone, mask), r.CampaignTitle, r.OrderId, r.FriendName, Phone(r.FriendPhone, mask),
                    r.Level switch { 1 => "一级", 2 => "二级", 3 => "三级", var n => n.ToString(System.Globalization.CultureInfo.InvariantCulture) },
                    r.AmountFen / 100m, r.ReversedFen / 100m, StatusWords.OfReward(r.Status),
                    OrderXlsx.Local(r.SettledAt, zone), OrderXlsx.Local(r.AvailableAt, zone),
                ]);
            }

            await xlsx.SaveAsync(stream, ct);
        }, XlsxWriter.ContentType, name);
    }

    private static XlsxText? Phone(string? phone, bool mask) => phone is null ? null : new XlsxText(mask ? PhoneNumbers.Mask(phone) : phone);

    /// <summary>The reward statuses the records filter accepts (the admin offers exactly these: admin/src/api/filterValues.json).</summary>
    internal static readonly IReadOnlyList<string> RecordStatuses = [RewardStatus.Frozen, RewardStatus.Available, RewardStatus.Reversed];

    private static ProblemHttpResult? BadStatus(string? status) =>
        status is not null && !RecordStatuses.Contains(status, StringComparer.Ordinal)
            ? Problems.Validation("status", "status is frozen, available or reversed.")
            : null;

    private static string RecordsWhere(long? campaignId, string? status, long? userId) =>
        "1 = 1" + (campaignId is null ? "" : " AND r.campaign_id = @campaignId") + (status is null ? "" : " AND r.status = @status")
        + (userId is null ? "" : " AND r.user_id = @userId");

    private sealed class ExportRow
    {
        public long Id { get; init; }
        public string? Name { get; init; }
        public string? Phone { get; init; }
        public string? CampaignTitle { get; init; }
        public long OrderId { get; init; }
        public string? FriendName { get; init; }
        public string? FriendPhone { get; init; }
        public int Level { get; init; }
        public long AmountFen { get; init; }
        public long ReversedFen { get; init; }
        public string Status { get; init; } = "";
        public DateTime? SettledAt { get; init; }
        public DateTime? AvailableAt { get; init; }
    }

    private sealed class RecordRow
    {
        public long Id { get; init; }
        public long UserId { get; init; }
        public string? Name { get; init; }
        public string? Phone { get; init; }
        public long OrderId { get; init; }
        public long CampaignId { get; init; }
        public string? CampaignTitle { get; init; }
        public int Level { get; init; }
        public long AmountFen { get; init; }
        public long ReversedFen { get; init; }
        public string Status { get; init; } = "";
        public DateTime? SettledAt { get; init; }
        public DateTime? AvailableAt { get; init; }
    }

    private static async Task<Results<Ok<LedgerPage>, ProblemHttpResult>> ListLedgerAsync(
        long userId, MySqlDataSource db, CancellationToken ct, int page = 1, int pageSize = 20)
    {
        if (BadPage(page, pageSize) is { } bad)
        {
            return bad;
        }

        await using var connection = await db.OpenConnectionAsync(ct);
        var total = await connection.ExecuteScalarAsync<long>(new CommandDefinition(
            "SELECT COUNT(*) FROM reward_ledger WHERE user_id = @userId", new { userId }, cancellationToken: ct));
        var items = (await connection.QueryAsync<LedgerRow>(new CommandDefinition(
            LedgerSelect + " WHERE user_id = @userId ORDER BY id DESC LIMIT @Limit OFFSET @Offset",
            new { userId, Limit = pageSize, Offset = (page - 1) * pageSize }, cancellationToken: ct))).Select(ToItem).ToList();
        return TypedResults.Ok(new LedgerPage(await ReadBalanceAsync(connection, userId, ct), items, total, page, pageSize));
    }

    private const string LedgerSelect = """
        SELECT id AS Id, kind AS Kind, frozen_delta_fen AS FrozenDeltaFen, available_delta_fen AS AvailableDeltaFen,
               withdrawing_delta_fen AS WithdrawingDeltaFen, paid_out_delta_fen AS PaidOutDeltaFen, reward_id AS RewardId,
               order_id AS OrderId, business_key AS BusinessKey, reason AS Reason, actor AS Actor, created_at AS CreatedAt
        FROM reward_ledger
        """;

    private sealed record LedgerRow(
        long Id, string Kind, long FrozenDeltaFen, long AvailableDeltaFen, long WithdrawingDeltaFen, long PaidOutDeltaFen,
        long? RewardId, long? OrderId, string BusinessKey, string? Reason, string? Actor, DateTime CreatedAt);

    private static LedgerItem ToItem(LedgerRow r) => new(r.Id, r.Kind, r.FrozenDeltaFen, r.AvailableDeltaFen, r.WithdrawingDeltaFen, r.PaidOutDeltaFen,
        r.RewardId, r.OrderId, r.BusinessKey, r.Reason, r.Actor, Utc(r.CreatedAt)!.Value);

    public const long MaxAdjustmentFen = 10_000_000;

    /// <summary>
    /// A manual adjustment of <c>available</c> by an admin (role admin only), with its reason, in the
    /// ledger. An <c>Idempotency-Key</c> header makes a retried request write nothing twice (the entry
    /// written first is answered); without it every call is a new adjustment.
    /// </summary>
    private static async Task<Results<Created<AdjustmentResult>, Ok<AdjustmentResult>, ProblemHttpResult>> AdjustAsync(
        long userId, AdjustmentCommand? command, HttpContext http, MySqlDataSource db, TimeProvider time, CancellationToken ct)
    {
        var errors = new FieldErrors();
        if (command?.AmountFen is not { } amount || amount == 0 || Math.Abs(amount) > MaxAdjustmentFen)
        {
            errors.Add("amountFen", $"A non-zero amount in fen, at most {MaxAdjustmentFen} either way.");
        }

        var reason = command?.Reason?.Trim();
        if (reason is not { Length: >= 1 and <= 200 })
        {
            errors.Add("reason", "A reason of 1 to 200 characters.");
        }

        var key = http.Request.Headers["Idempotency-Key"].ToString();
        if (key.Length > 64)
        {
            errors.Add("Idempotency-Key", "At most 64 characters.");
        }

        if (errors.Any)
        {
            return Problems.Validation(errors);
        }

        await using var connection = await db.OpenConnectionAsync(ct);
        if (!await connection.ExecuteScalarAsync<bool>(new CommandDefinition(
            "SELECT EXISTS (SELECT 1 FROM participants WHERE id = @userId)", new { userId }, cancellationToken: ct)))
        {
            return Problems.NotFound("The participant");
        }

        var actor = http.User.FindFirstValue("name") ?? http.User.FindFirstValue("sub") ?? "admin";
        var businessKey = key.Length > 0 ? $"adjustment:{userId}:{key}" : $"adjustment:{userId}:{Guid.NewGuid():N}";
        await using var tx = await connection.BeginTransactionAsync(ct);
        var written = await RewardLedger.ApplyAsync(connection, tx, new LedgerEntry(userId, LedgerKind.Adjustment, businessKey, time.GetUtcNow().UtcDateTime,
            AvailableDelta: command!.AmountFen!.Value, Reason: reason, Actor: actor.Length > 64 ? actor[..64] : actor), ct);
        var entry = await connection.QuerySingleAsync<LedgerRow>(new CommandDefinition(
            LedgerSelect + " WHERE business_key = @businessKey", new { businessKey }, tx, cancellationToken: ct));
        await AuditLog.WriteAsync(connection, tx, written
            ? AuditEntry.Of(http, AuditActions.BalanceAdjust, "participant", userId, new { amountFen = command.AmountFen, reason, businessKey })
            : null, ct);
        await tx.CommitAsync(ct);
        var result = new AdjustmentResult(ToItem(entry), await ReadBalanceAsync(connection, userId, ct));
        return written
            ? TypedResults.Created($"/api/v1/rewards/{userId}/ledger", result)
            : TypedResults.Ok(result);
    }

    private static DateTimeOffset? Utc(DateTime? value) => value is { } v ? new DateTimeOffset(DateTime.SpecifyKind(v, DateTimeKind.Utc)) : null;

    /// <summary>"13800138000" → "138****8000".</summary>
    private static bool MayRead(ClaimsPrincipal user, long userId) => user.IsAdmin() || user.ParticipantId() == userId;

    private static ProblemHttpResult Forbidden() =>
        Problems.Forbidden("Not allowed to read this participant's rewards");

    private static ProblemHttpResult? BadPage(int page, int pageSize) =>
        page < 1 || pageSize < 1 || pageSize > MaxPageSize
            ? Problems.InvalidPaging($"page must be ≥ 1 and pageSize 1..{MaxPageSize}.")
            : null;

    private static async Task<Balance> ReadBalanceAsync(MySqlConnection connection, long userId, CancellationToken ct) =>
        await connection.QuerySingleOrDefaultAsync<Balance>(new CommandDefinition("""
            SELECT user_id AS UserId, frozen_fen AS FrozenFen, available_fen AS AvailableFen, withdrawing_fen AS WithdrawingFen,
                   paid_out_fen AS PaidOutFen, total_earned_fen AS TotalEarnedFen, version AS Version,
                   frozen_fen + available_fen AS BalanceFen, total_earned_fen AS TotalRewardFen
            FROM user_balances WHERE user_id = @UserId
            """, new { UserId = userId }, cancellationToken: ct))
        ?? new Balance(userId, 0, 0, 0, 0, 0, 0, 0, 0);

    private static async Task<IReadOnlyList<RewardItem>> ReadRewardsAsync(MySqlConnection connection, long userId, int offset, int limit, CancellationToken ct)
    {
        var rows = await connection.QueryAsync<RewardRow>(new CommandDefinition("""
            SELECT r.id AS Id, r.order_id AS OrderId, r.campaign_id AS CampaignId, c.name AS CampaignTitle,
                   JSON_UNQUOTE(JSON_EXTRACT(o.form_data, '$.name')) AS FriendName, o.phone AS FriendPhone, r.level AS Level,
                   r.amount_fen AS AmountFen, r.reversed_fen AS ReversedFen, r.status AS Status, r.settled_at AS SettledAt, r.available_at AS AvailableAt
            FROM rewards r LEFT JOIN campaigns c ON c.id = r.campaign_id LEFT JOIN orders o ON o.id = r.order_id
            WHERE r.user_id = @UserId ORDER BY r.id DESC LIMIT @Limit OFFSET @Offset
            """, new { UserId = userId, Limit = limit, Offset = offset }, cancellationToken: ct));
        return rows.Select(r => new RewardItem(r.Id, r.OrderId, r.CampaignId, r.CampaignTitle, r.FriendName, PhoneNumbers.Mask(r.FriendPhone), r.Level,
            r.AmountFen, r.ReversedFen, r.Status, Utc(r.SettledAt), Utc(r.AvailableAt))).ToList();
    }

    private sealed class RewardRow
    {
        public long Id { get; init; }
        public long OrderId { get; init; }
        public long CampaignId { get; init; }
        public string? CampaignTitle { get; init; }
        public string? FriendName { get; init; }
        public string? FriendPhone { get; init; }
        public int Level { get; init; }
        public long AmountFen { get; init; }
        public long ReversedFen { get; init; }
        public string Status { get; init; } = "";
        public DateTime? SettledAt { get; init; }
        public DateTime? AvailableAt { get; init; }
    }
}
