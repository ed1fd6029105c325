using System.Security.Cryptography;
using Dmh.Platform.Security;
using Dmh.Syncer.Target;

namespace Dmh.UnitTests.Syncer;

public sealed class SyncConfigurationTests
{
    private static readonly string Key = Convert.ToBase64String(Enumerable.Range(0, 32).Select(i => (byte)i).ToArray());
    private static readonly string OtherKey = Convert.ToBase64String(Enumerable.Range(1, 32).Select(i => (byte)i).ToArray());

    [Fact]
    public void A_protected_secret_round_trips_and_is_different_each_time()
    {
        var protector = new SecretProtector(Key);
        var a = protector.Protect("s3cret-密码");
        var b = protector.Protect("s3cret-密码");

        Assert.StartsWith("enc:v1:", a, StringComparison.Ordinal);
        Assert.NotEqual(a, b);
        Assert.Equal("s3cret-密码", protector.Unprotect(a));
    }

    [Fact]
    public void A_secret_made_with_another_key_or_tampered_with_is_refused()
    {
        var value = new SecretProtector(Key).Protect("pw");
        Assert.ThrowsAny<CryptographicException>(() => new SecretProtector(OtherKey).Unprotect(value));
        var bytes = Convert.FromBase64String(value["enc:v1:".Length..]);
        bytes[^1] ^= 1;
        Assert.ThrowsAny<CryptographicException>(() => new SecretProtector(Key).Unprotect("enc:v1:" + Convert.ToBase64String(bytes)));
        Assert.Throws<InvalidOperationException>(() => new SecretProtector("c2hvcnQ="));
    }

    [Fact]
    public void A_plain_password_is_refused_unless_allowed()
    {
        var options = new ExternalSyncOptions { Enabled = true, Database = { Password = "plain" } };
        Assert.Contains("must be encrypted", TargetConnectionFactory.Check(options, Key), StringComparison.Ordinal);

        options.AllowPlainPassword = true;
        Assert.Null(TargetConnectionFactory.Check(options, Key));

        options.AllowPlainPassword = false;
        options.Database.Password = new SecretProtector(Key).Protect("pw");
        Assert.Null(TargetConnectionFactory.Check(options, Key));
        Assert.Contains("cannot be decrypted", TargetConnectionFactory.Check(options, OtherKey), StringComparison.Ordinal);
    }

    [Fact]
    public void An_oracle_target_without_its_provider_fails_with_a_clear_message()
    {
        var options = new ExternalSyncOptions { Enabled = true, Database = { Type = "oracle", Port = 1521, OracleProviderAssembly = "/nonexistent/Oracle.ManagedDataAccess.dll" } };

        Assert.Equal(TargetConnectionFactory.OracleMissing, TargetConnectionFactory.Check(options, Key));
    }

    [Fact]
    public void Sql_server_connections_are_encrypted_by_default()
    {
        var options = new ExternalSyncOptions { Enabled = true, AllowPlainPassword = true, Database = { Type = "sqlserver", Port = 1433, User = "u", Password = "p", Database = "d" } };
        using var connection = new TargetConnectionFactory(options, Key).Create();

        Assert.Contains("Encrypt=True", connection.ConnectionString, StringComparison.OrdinalIgnoreCase);
    }

    [Fact]
    public void A_host_outside_the_allow_list_and_unsafe_identifiers_are_refused()
    {
        Assert.Contains("AllowedHosts", new ExternalSyncOptions { AllowedHosts = ["db.example.com"] }.Check(), StringComparison.Ordinal);
        Assert.Null(new ExternalSyncOptions { AllowedHosts = ["DB.example.com"], Database = { Host = "db.example.com" } }.Check());

        var bad = new ExternalSyncOptions();
        bad.Orders.Fields["phone"] = "x; DROP TABLE y";
        Assert.NotNull(bad.Check());

        var unknown = new ExternalSyncOptions();
        unknown.Orders.Fields["nope"] = "col";
        Assert.Contains("unknown source", unknown.Check(), StringComparison.Ordinal);

        var reversals = new ExternalSyncOptions();
        reversals.Reversals.Table = "crm.reward_reversals";
        reversals.Reversals.Fields["refund_id"] = "refund_no";
        Assert.Null(reversals.Check());
        reversals.Reversals.Fields["settled_at"] = "settled";
        Assert.Contains("Reversals:Fields: unknown source", reversals.Check(), StringComparison.Ordinal);
        reversals.Reversals.Fields.Remove("settled_at");
        reversals.Reversals.KeyColumn = "id; --";
        Assert.Contains("ExternalSync:Reversals", reversals.Check(), StringComparison.Ordinal);
    }

    [Fact]
    public void Default_mapping_reads_the_proposal_fields_and_any_form_data_path()
    {
        var options = new ExternalSyncOptions();
        options.Orders.Fields["form_data.school.grade"] = "grade";
        options.Orders.Fields["amount"] = "";
        var mapper = new FieldMapper(options.Orders);
        var created = new DateTime(2026, 1, 2, 3, 4, 5, DateTimeKind.Utc);

        var values = mapper.Map(42, new Dictionary<string, object?>
        {
            ["phone"] = "13800000000",
            ["form_data"] = """{"name":"张三","school":{"grade":3}}""",
            ["amount"] = 99.90m,
            ["created_at"] = created,
        });

        Assert.Equal(["dmh_order_id", "grade", "register_time", "student_name", "student_phone"], mapper.Columns);
        Assert.Equal([42L, 3m, created, "张三", "13800000000"], values);
    }
}
