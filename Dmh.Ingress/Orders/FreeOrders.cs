using System.Security.Cryptography;
using Dapper;
using Dmh.Contracts;
using MySqlConnector;

namespace Dmh.Ingress.Orders;

/// <summary>
/// Free registrations (price 0) complete at once: paid without a payment (no trade number, no
/// attempt), a registration code, and the order's sync outbox row (the syncer's sweeper publishes
/// it). No reward: rewards are settled from payments by Dmh.Settlement, and a free order has none.
/// </summary>
public sealed class FreeOrders(MySqlDataSource dataSource, TimeProvider time)
{
    // The same alphabet and length as Dmh.Settlement's codes (no 0/O, 1/I): one code format on site.
    private const string CodeAlphabet = "ABCDEFGHJKLMNPQRSTUVWXYZ23456789";
    private const int CodeLength = 10;

    /// <summary>Marks an unpaid order of amount 0 paid; true when this call did. Anything else is left as it is.</summary>
    public async Task<bool> CompleteAsync(long orderId, CancellationToken ct)
    {
        for (var i = 0; ; i++)
        {
            await using var connection = await dataSource.OpenConnectionAsync(ct);
            await using var tx = await connection.BeginTransactionAsync(ct);
            var now = time.GetUtcNow().UtcDateTime;
            try
            {
                var changed = await connection.ExecuteAsync(new CommandDefinition("""
                    UPDATE orders SET status = @paid, pay_status = @paid, paid_at = @now, registration_code = @code, sync_status = 'pending'
                    WHERE id = @orderId AND pay_status = @unpaid AND amount = 0 AND deleted_at IS NULL
                    """, new { orderId, now, code = RandomNumberGenerator.GetString(CodeAlphabet, CodeLength), paid = PayStatus.Paid, unpaid = PayStatus.Unpaid },
                    tx, cancellationToken: ct));
                if (changed == 0)
                {
                    return false;
                }

                await connection.ExecuteAsync(new CommandDefinition("""
                    INSERT INTO sync_records (entity, entity_id, order_id, status, committed_at) VALUES ('order', @orderId, @orderId, 'pending', @now)
                    ON DUPLICATE KEY UPDATE status = 'pending', committed_at = @now, published_at = NULL, next_attempt_at = NULL
                    """, new { orderId, now }, tx, cancellationToken: ct));
                await tx.CommitAsync(ct);
                return true;
            }
            catch (MySqlException ex) when (ex.ErrorCode == MySqlErrorCode.DuplicateKeyEntry && ex.Message.Contains("registration_code", StringComparison.Ordinal) && i < 5)
            {
                // 50 random bits: a collision is rare; draw again.
                await tx.RollbackAsync(CancellationToken.None);
            }
        }
    }
}
