using System.Security.Claims;
using Dapper;
using Dmh.Ingress.Http;
using Dmh.Ingress.Participants;
using Dmh.Ingress.Security;
using Dmh.Platform;
using Microsoft.AspNetCore.Http.HttpResults;
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
        app.MapGet("/api/v1/me/rewards", GetMineAsync).WithTags("Rewards").RequireAuthorization(Policies.Participant);
        return app;
    }

    public sealed record Balance(long UserId, long BalanceFen, long TotalRewardFen, long Version);

    public sealed record RewardItem(long Id, long OrderId, long CampaignId, long AmountFen, string Status, DateTimeOffset? SettledAt);

    public sealed record RewardPage(IReadOnlyList<RewardItem> Items, long Total, int Page, int PageSize);

    public sealed record Referrer(long ParticipantId, string PhoneMasked, long BalanceFen, long TotalRewardFen, long RewardCount);

    public sealed record ReferrerPage(IReadOnlyList<Referrer> Items, long Total, int Page, int PageSize);

    public sealed record MyRewards(long ParticipantId, string ReferralCode, long BalanceFen, long TotalRewardFen, IReadOnlyList<RewardItem> Items);

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
        return TypedResults.Ok(new MyRewards(id, code, balance.BalanceFen, balance.TotalRewardFen, items));
    }

    private static async Task<Results<Ok<ReferrerPage>, ProblemHttpResult>> ListReferrersAsync(MySqlDataSource db, CancellationToken ct, int page = 1, int pageSize = 20)
    {
        if (BadPage(page, pageSize) is { } bad)
        {
            return bad;
        }

        await using var connection = await db.OpenConnectionAsync(ct);
        var total = await connection.ExecuteScalarAsync<long>(new CommandDefinition("SELECT COUNT(*) FROM user_balances", cancellationToken: ct));
        var rows = await connection.QueryAsync<(long UserId, string? Phone, decimal Balance, decimal TotalReward, long RewardCount)>(new CommandDefinition("""
            SELECT b.user_id, p.phone, b.balance, b.total_reward,
                   (SELECT COUNT(*) FROM rewards r WHERE r.user_id = b.user_id) AS reward_count
            FROM user_balances b LEFT JOIN participants p ON p.id = b.user_id
            ORDER BY b.total_reward DESC, b.user_id
            LIMIT @Limit OFFSET @Offset
            """, new { Limit = pageSize, Offset = (page - 1) * pageSize }, cancellationToken: ct));
        var items = rows.Select(r => new Referrer(r.UserId, PhoneNumbers.Mask(r.Phone), Money.YuanToFen(r.Balance), Money.YuanToFen(r.TotalReward), r.RewardCount)).ToList();
        return TypedResults.Ok(new ReferrerPage(items, total, page, pageSize));
    }

    /// <summary>"13800138000" → "138****8000".</summary>
    private static bool MayRead(ClaimsPrincipal user, long userId) => user.IsAdmin() || user.ParticipantId() == userId;

    private static ProblemHttpResult Forbidden() =>
        Problems.Forbidden("Not allowed to read this participant's rewards");

    private static ProblemHttpResult? BadPage(int page, int pageSize) =>
        page < 1 || pageSize < 1 || pageSize > MaxPageSize
            ? Problems.InvalidPaging($"page must be ≥ 1 and pageSize 1..{MaxPageSize}.")
            : null;

    private static async Task<Balance> ReadBalanceAsync(MySqlConnection connection, long userId, CancellationToken ct)
    {
        var row = await connection.QuerySingleOrDefaultAsync<BalanceRow>(new CommandDefinition(
            "SELECT balance AS Balance, total_reward AS TotalReward, version AS Version FROM user_balances WHERE user_id = @UserId", new { UserId = userId }, cancellationToken: ct));
        return row is { } r
            ? new Balance(userId, Money.YuanToFen(r.Balance), Money.YuanToFen(r.TotalReward), r.Version)
            : new Balance(userId, 0, 0, 0);
    }

    private sealed record BalanceRow(decimal Balance, decimal TotalReward, long Version);

    private static async Task<IReadOnlyList<RewardItem>> ReadRewardsAsync(MySqlConnection connection, long userId, int offset, int limit, CancellationToken ct)
    {
        var rows = await connection.QueryAsync<(long Id, long OrderId, long CampaignId, decimal Amount, string Status, DateTime? SettledAt)>(new CommandDefinition("""
            SELECT id, order_id, campaign_id, amount, status, settled_at FROM rewards
            WHERE user_id = @UserId ORDER BY id DESC LIMIT @Limit OFFSET @Offset
            """, new { UserId = userId, Limit = limit, Offset = offset }, cancellationToken: ct));
        return rows.Select(r => new RewardItem(r.Id, r.OrderId, r.CampaignId, Money.YuanToFen(r.Amount), r.Status,
            r.SettledAt is { } s ? new DateTimeOffset(DateTime.SpecifyKind(s, DateTimeKind.Utc)) : null)).ToList();
    }
}
