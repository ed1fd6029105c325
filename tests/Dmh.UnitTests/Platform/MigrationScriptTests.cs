using Dmh.Platform.Database;

namespace Dmh.UnitTests.Platform;

public sealed class MigrationScriptTests
{
    [Fact]
    public void Scripts_are_ordered_unique_and_named_by_version()
    {
        var migrations = Migrator.LoadMigrations();
        Assert.NotEmpty(migrations);
        Assert.Equal(migrations.Select(m => m.Version).Distinct().Count(), migrations.Count);
        Assert.All(migrations, m => Assert.Matches(@"^V\d{4}$", m.Version));
        Assert.Equal(migrations.OrderBy(m => m.Version, StringComparer.Ordinal).Select(m => m.Version), migrations.Select(m => m.Version));
    }

    [Fact]
    public void Splitting_drops_comments_and_keeps_semicolons_inside_lines()
    {
        var statements = Migrator.Migration.Split("""
            -- a comment; with a semicolon
            CREATE TABLE a (x VARCHAR(10) DEFAULT 'a;b');
            INSERT INTO a VALUES ('1');

            """);
        Assert.Equal(["CREATE TABLE a (x VARCHAR(10) DEFAULT 'a;b')", "INSERT INTO a VALUES ('1')"], statements);
    }
}
