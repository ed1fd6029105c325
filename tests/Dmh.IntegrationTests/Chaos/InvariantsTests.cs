using Dapper;
using Dmh.Chaos;
using Dmh.Contracts;
using Dmh.IntegrationTests.Settlement;
using Dmh.IntegrationTests.Syncer;
using Dmh.Platform.Rewards;
using Dmh.Settlement.Settling;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;
using MySqlConnector;

namespace Dmh.IntegrationTests.Chaos;

/// <summary>The chaos suite's checks against a real MariaDB: the ledger invariant of issue 17.</summary>
public sealed class InvariantsTests : SettlementTestBase
{
    private const string Ledger = "referrer whose balance is not the sum of their ledger rows (or version not their count)";

    [Fact]
    public async Task The_ledger_invariant_holds_after_settlement_and_reports_a_balance_moved_without_its_ledger_row()
    {
        var campaign = await Kit.CampaignAsync(new RewardConfig(7, [new RewardLevelRule(RewardTypes.Fixed, AmountFen: 1000)], RewardCaps.None));
        var referrer = await Kit.ParticipantAsync();
        var order = await Kit.OrderAsync(campaign, await Kit.ParticipantAsync(), referrer, 9900);
        await using (var c = await Db.DataSource.OpenConnectionAsync())
        {
            var store = new SettlementStore(Options.Create(new SettlementOptions()), TimeProvider.System, NullLogger<SettlementStore>.Instance);
            await store.SettleAsync(c, SettlementKit.Payment(order.OutTradeNo, 9900), default);
        }

        await using var target = await TargetDatabase.CreateAsync(TargetKind.MySql);
        await using var customer = new MySqlDataSource(target.ConnectionString);
        foreach (var (stream, group) in new[] { (StreamNames.Payments, GroupNames.Settlement), (StreamNames.Sync, GroupNames.Syncer) })
        {
            await Kit.Redis.StreamCreateConsumerGroupAsync(Kit.Prefix + stream, group, "0", createStream: true);
        }

        var invariants = new Invariants(Db.DataSource, customer, Kit.Redis, Kit.Prefix);
        var scope = new CheckScope(campaign, 10m, [order.OrderId], DateTime.UtcNow.AddMinutes(-1));
        Assert.DoesNotContain(await invariants.CheckAsync(scope, default), v => v.Invariant == Ledger);

        await using (var c = await Db.DataSource.OpenConnectionAsync())
        {
            await c.ExecuteAsync("UPDATE user_balances SET frozen_fen = frozen_fen + 1 WHERE user_id = @referrer", new { referrer });
        }

        var violation = Assert.Single(await invariants.CheckAsync(scope, default), v => v.Invariant == Ledger);
        Assert.Equal([referrer.ToString(System.Globalization.CultureInfo.InvariantCulture)], violation.FirstIds);
    }
}
