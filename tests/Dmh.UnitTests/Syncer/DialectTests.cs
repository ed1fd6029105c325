using Dmh.Syncer.Target;

namespace Dmh.UnitTests.Syncer;

public sealed class DialectTests
{
    private static readonly string[] Columns = ["dmh_order_id", "student_phone", "student_name"];

    private static List<object?[]> Rows(int count) =>
        Enumerable.Range(1, count).Select(i => new object?[] { (long)i, "1380000" + i, i % 2 == 0 ? null : "n" + i }).ToList();

    [Fact]
    public void Sql_server_batch_is_an_insert_where_not_exists_with_holdlock_and_at_parameters()
    {
        var statements = new SqlServerDialect().BuildInserts("dmh_orders", Columns, Rows(2));

        var s = Assert.Single(statements);
        Assert.Equal(
            "INSERT INTO [dmh_orders] ([dmh_order_id], [student_phone], [student_name]) SELECT s.[dmh_order_id], s.[student_phone], s.[student_name] "
            + "FROM (VALUES (@p0, @p1, @p2), (@p3, @p4, @p5)) AS s ([dmh_order_id], [student_phone], [student_name]) "
            + "WHERE NOT EXISTS (SELECT 1 FROM [dmh_orders] AS d WITH (UPDLOCK, HOLDLOCK) WHERE d.[dmh_order_id] = s.[dmh_order_id])",
            s.Sql);
        Assert.Equal(["@p0", "@p1", "@p2", "@p3", "@p4", "@p5"], s.Parameters.Select(p => p.Key));
        Assert.Equal([1L, "13800001", "n1", 2L, "13800002", null], s.Parameters.Select(p => p.Value));
        Assert.Equal(2, s.RowCount);
        Assert.DoesNotContain("UPDATE", s.Sql.Replace("UPDLOCK", "", StringComparison.Ordinal), StringComparison.OrdinalIgnoreCase);
        Assert.DoesNotContain("DELETE", s.Sql, StringComparison.OrdinalIgnoreCase);
    }

    [Fact]
    public void Sql_server_splits_a_batch_to_stay_under_2100_parameters()
    {
        var dialect = new SqlServerDialect();
        var statements = dialect.BuildInserts("dmh_orders", Columns, Rows(1500));

        // 3 columns: 2099 / 3 = 699 rows per statement.
        Assert.Equal([699, 699, 102], statements.Select(s => s.RowCount));
        Assert.All(statements, s => Assert.True(s.Parameters.Count <= 2100));
        Assert.Equal(1500, statements.Sum(s => s.RowCount));
        Assert.Equal("@p2096", statements[0].Parameters[^1].Key);
        Assert.Equal("@p0", statements[1].Parameters[0].Key);
        Assert.Equal(700L, statements[1].Parameters[0].Value);
        Assert.Contains("(@p2094, @p2095, @p2096)) AS s", statements[0].Sql, StringComparison.Ordinal);
    }

    [Fact]
    public void Sql_server_caps_a_statement_at_1000_rows_when_parameters_would_allow_more()
    {
        var statements = new SqlServerDialect().BuildInserts("dbo.t", ["k"], Enumerable.Range(1, 2500).Select(i => new object?[] { (long)i }).ToList());

        Assert.Equal([1000, 1000, 500], statements.Select(s => s.RowCount));
        Assert.StartsWith("INSERT INTO [dbo].[t] ([k])", statements[0].Sql, StringComparison.Ordinal);
    }

    [Fact]
    public void Oracle_batch_is_a_merge_over_union_all_from_dual_with_colon_parameters()
    {
        var statements = new OracleDialect().BuildInserts("dmh_orders", Columns, Rows(2));

        var s = Assert.Single(statements);
        Assert.Equal(
            "MERGE INTO \"DMH_ORDERS\" d USING (SELECT :p0 \"DMH_ORDER_ID\", :p1 \"STUDENT_PHONE\", :p2 \"STUDENT_NAME\" FROM DUAL "
            + "UNION ALL SELECT :p3, :p4, :p5 FROM DUAL) s ON (d.\"DMH_ORDER_ID\" = s.\"DMH_ORDER_ID\") "
            + "WHEN NOT MATCHED THEN INSERT (\"DMH_ORDER_ID\", \"STUDENT_PHONE\", \"STUDENT_NAME\") VALUES (s.\"DMH_ORDER_ID\", s.\"STUDENT_PHONE\", s.\"STUDENT_NAME\")",
            s.Sql);
        // Oracle's ADO.NET names parameters without the colon.
        Assert.Equal(["p0", "p1", "p2", "p3", "p4", "p5"], s.Parameters.Select(p => p.Key));
        Assert.DoesNotContain("WHEN MATCHED", s.Sql, StringComparison.Ordinal);
    }

    [Fact]
    public void Oracle_splits_at_1000_rows_per_statement()
    {
        var statements = new OracleDialect().BuildInserts("dmh_orders", Columns, Rows(2001));

        Assert.Equal([1000, 1000, 1], statements.Select(s => s.RowCount));
        Assert.Equal(3000, statements[0].Parameters.Count);
        Assert.Equal("p0", statements[2].Parameters[0].Key);
        Assert.Equal(2001L, statements[2].Parameters[0].Value);
    }

    [Fact]
    public void Oracle_splits_wide_rows_at_65535_binds()
    {
        var columns = Enumerable.Range(0, 100).Select(i => "c" + i).ToArray();
        var rows = Enumerable.Range(1, 1500).Select(i => columns.Select(_ => (object?)i).ToArray()).ToList();

        var statements = new OracleDialect().BuildInserts("t", columns, rows);

        Assert.Equal([655, 655, 190], statements.Select(s => s.RowCount));
        Assert.All(statements, s => Assert.True(s.Parameters.Count <= 65_535));
    }

    [Fact]
    public void Mysql_and_postgresql_skip_existing_ids_without_ignoring_other_errors()
    {
        var my = Assert.Single(new MySqlDialect().BuildInserts("dmh_orders", Columns, Rows(1)));
        Assert.Equal("INSERT INTO `dmh_orders` (`dmh_order_id`, `student_phone`, `student_name`) VALUES (@p0, @p1, @p2) ON DUPLICATE KEY UPDATE `dmh_order_id` = `dmh_order_id`", my.Sql);
        Assert.DoesNotContain("IGNORE", my.Sql, StringComparison.Ordinal);

        var pg = Assert.Single(new PostgreSqlDialect().BuildInserts("crm.dmh_orders", Columns, Rows(1)));
        Assert.Equal("INSERT INTO \"crm\".\"dmh_orders\" (\"dmh_order_id\", \"student_phone\", \"student_name\") VALUES (@p0, @p1, @p2) ON CONFLICT (\"dmh_order_id\") DO NOTHING", pg.Sql);
    }

    [Fact]
    public void A_reversal_is_an_idempotent_insert_into_dmh_reward_reversals_in_every_dialect()
    {
        var mapper = new FieldMapper(new ExternalSyncOptions().Reversals);
        var row = new Dictionary<string, object?>(StringComparer.Ordinal)
        {
            ["reward_id"] = 7L, ["order_id"] = 3L, ["refund.out_refund_no"] = "R3-1", ["participant.phone"] = "13800000001",
            ["amount"] = 2.50m, ["created_at"] = new DateTime(2026, 1, 2, 3, 4, 5, DateTimeKind.Utc),
        };
        var values = mapper.Map(42, row);
        Assert.Equal(["dmh_reversal_id", "dmh_order_id", "dmh_reward_id", "out_refund_no", "referrer_phone", "reversed_amount", "reversed_time"], mapper.Columns);
        Assert.Equal([42L, 3L, 7L, "R3-1", "13800000001", 2.50m, row["created_at"]], values);

        const string myColumns = "`dmh_reversal_id`, `dmh_order_id`, `dmh_reward_id`, `out_refund_no`, `referrer_phone`, `reversed_amount`, `reversed_time`";
        Assert.Equal(
            $"INSERT INTO `dmh_reward_reversals` ({myColumns}) VALUES (@p0, @p1, @p2, @p3, @p4, @p5, @p6) ON DUPLICATE KEY UPDATE `dmh_reversal_id` = `dmh_reversal_id`",
            Assert.Single(new MySqlDialect().BuildInserts(mapper.Mapping.Table, mapper.Columns, [values])).Sql);
        Assert.Equal(
            "INSERT INTO \"dmh_reward_reversals\" (\"dmh_reversal_id\", \"dmh_order_id\", \"dmh_reward_id\", \"out_refund_no\", \"referrer_phone\", \"reversed_amount\", \"reversed_time\") "
            + "VALUES (@p0, @p1, @p2, @p3, @p4, @p5, @p6) ON CONFLICT (\"dmh_reversal_id\") DO NOTHING",
            Assert.Single(new PostgreSqlDialect().BuildInserts(mapper.Mapping.Table, mapper.Columns, [values])).Sql);
        Assert.Equal(
            "INSERT INTO [dmh_reward_reversals] ([dmh_reversal_id], [dmh_order_id], [dmh_reward_id], [out_refund_no], [referrer_phone], [reversed_amount], [reversed_time]) "
            + "SELECT s.[dmh_reversal_id], s.[dmh_order_id], s.[dmh_reward_id], s.[out_refund_no], s.[referrer_phone], s.[reversed_amount], s.[reversed_time] "
            + "FROM (VALUES (@p0, @p1, @p2, @p3, @p4, @p5, @p6)) AS s ([dmh_reversal_id], [dmh_order_id], [dmh_reward_id], [out_refund_no], [referrer_phone], [reversed_amount], [reversed_time]) "
            + "WHERE NOT EXISTS (SELECT 1 FROM [dmh_reward_reversals] AS d WITH (UPDLOCK, HOLDLOCK) WHERE d.[dmh_reversal_id] = s.[dmh_reversal_id])",
            Assert.Single(new SqlServerDialect().BuildInserts(mapper.Mapping.Table, mapper.Columns, [values])).Sql);
        Assert.Equal(
            "MERGE INTO \"DMH_REWARD_REVERSALS\" d USING (SELECT :p0 \"DMH_REVERSAL_ID\", :p1 \"DMH_ORDER_ID\", :p2 \"DMH_REWARD_ID\", :p3 \"OUT_REFUND_NO\", :p4 \"REFERRER_PHONE\", "
            + ":p5 \"REVERSED_AMOUNT\", :p6 \"REVERSED_TIME\" FROM DUAL) s ON (d.\"DMH_REVERSAL_ID\" = s.\"DMH_REVERSAL_ID\") "
            + "WHEN NOT MATCHED THEN INSERT (\"DMH_REVERSAL_ID\", \"DMH_ORDER_ID\", \"DMH_REWARD_ID\", \"OUT_REFUND_NO\", \"REFERRER_PHONE\", \"REVERSED_AMOUNT\", \"REVERSED_TIME\") "
            + "VALUES (s.\"DMH_REVERSAL_ID\", s.\"DMH_ORDER_ID\", s.\"DMH_REWARD_ID\", s.\"OUT_REFUND_NO\", s.\"REFERRER_PHONE\", s.\"REVERSED_AMOUNT\", s.\"REVERSED_TIME\")",
            Assert.Single(new OracleDialect().BuildInserts(mapper.Mapping.Table, mapper.Columns, [values])).Sql);
    }

    [Fact]
    public void Identifiers_are_quoted_with_their_quote_characters_escaped()
    {
        Assert.Equal("[a]]b]", new SqlServerDialect().QuoteIdentifier("a]b"));
        Assert.Equal("`a``b`", new MySqlDialect().QuoteIdentifier("a`b"));
        Assert.Equal("\"a\"\"b\"", new PostgreSqlDialect().QuoteIdentifier("a\"b"));
    }

    [Fact]
    public void Timeouts_and_socket_errors_are_transient_and_other_errors_are_not()
    {
        foreach (var dialect in new SqlDialect[] { new MySqlDialect(), new PostgreSqlDialect(), new SqlServerDialect(), new OracleDialect() })
        {
            Assert.True(dialect.IsTransient(new TimeoutException()));
            Assert.True(dialect.IsTransient(new InvalidOperationException("wrapped", new System.Net.Sockets.SocketException())));
            Assert.False(dialect.IsTransient(new InvalidCastException()));
        }
    }
}
