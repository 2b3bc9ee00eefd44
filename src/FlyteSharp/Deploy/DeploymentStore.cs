using System.Text.Json;
using FlyteSharp.Runs;
using FlyteSharp.Tasks;
using Microsoft.Data.Sqlite;

namespace FlyteSharp.Deploy;

/// <summary>
/// Deployments in the run database (its own table, created on first use beside the run store's schema).
/// A version is immutable per environment: deploying it again with a different image is refused.
/// </summary>
internal sealed class DeploymentStore(RunStore store)
{
    private const string Schema = """
        CREATE TABLE IF NOT EXISTS deployments(
          version TEXT NOT NULL, environment TEXT NOT NULL, image_uri TEXT NOT NULL, copy_style TEXT NOT NULL,
          tasks TEXT NOT NULL, resources TEXT NOT NULL, entry TEXT NOT NULL, code_directory TEXT, created_at TEXT NOT NULL,
          PRIMARY KEY(version, environment));
        """;

    private static readonly JsonSerializerOptions Json = new(JsonSerializerDefaults.Web);

    public static DeploymentStore Open(string databasePath, TimeProvider? time = null) => new(RunStore.Open(databasePath, time));

    /// <summary>Records <paramref name="deployment"/>; the same version and image again is a no-op.</summary>
    /// <exception cref="FlyteSharpException">The version is already deployed for that environment with another image.</exception>
    public void Record(Deployment deployment)
    {
        using var connection = Open();
        using var transaction = connection.BeginTransaction();
        if (Existing(connection, deployment.Version, deployment.Environment, deployment.ImageUri) is not null)
        {
            return;
        }

        using var insert = connection.CreateCommand();
        insert.CommandText = """
            INSERT INTO deployments(version, environment, image_uri, copy_style, tasks, resources, entry, code_directory, created_at)
            VALUES ($v, $e, $i, $c, $t, $r, $entry, $code, $at)
            """;
        insert.Parameters.AddWithValue("$v", deployment.Version);
        insert.Parameters.AddWithValue("$e", deployment.Environment);
        insert.Parameters.AddWithValue("$i", deployment.ImageUri);
        insert.Parameters.AddWithValue("$c", deployment.CopyStyle.ToString());
        insert.Parameters.AddWithValue("$t", JsonSerializer.Serialize(deployment.Tasks, Json));
        insert.Parameters.AddWithValue("$r", JsonSerializer.Serialize(new ResourceRow(deployment.Resources.Cpu, deployment.Resources.Memory, deployment.Resources.Gpu, deployment.Resources.Disk), Json));
        insert.Parameters.AddWithValue("$entry", deployment.Entry);
        insert.Parameters.AddWithValue("$code", (object?)deployment.CodeDirectory ?? DBNull.Value);
        insert.Parameters.AddWithValue("$at", RunStore.Time(deployment.CreatedAt));
        insert.ExecuteNonQuery();
        transaction.Commit();
    }

    /// <summary>
    /// Checks, before anything is built, that <paramref name="version"/> of <paramref name="environment"/> is free or
    /// already means <paramref name="imageUri"/>. <see cref="Record"/> checks again (another deploy may have won meanwhile).
    /// </summary>
    /// <exception cref="FlyteSharpException">The version is deployed for that environment with another image.</exception>
    public void EnsureVersionFree(string version, string environment, string imageUri)
    {
        using var connection = Open();
        _ = Existing(connection, version, environment, imageUri);
    }

    // The recorded deployment of (version, environment) when it has this image; null when there is none.
    private static Deployment? Existing(SqliteConnection connection, string version, string environment, string imageUri)
    {
        var existing = Get(connection, version).FirstOrDefault(d => d.Environment == environment);
        if (existing is not null && existing.ImageUri != imageUri)
        {
            throw new FlyteSharpException(
                $"version {version} of environment '{environment}' is already deployed with image {existing.ImageUri}; " +
                $"this deploy would make it {imageUri}",
                fix: "deploy under a new version (a version must always mean the same code), e.g. the current git SHA");
        }

        return existing;
    }

    /// <summary>Every environment deployed under <paramref name="version"/>, by environment name.</summary>
    public IReadOnlyList<Deployment> Get(string version)
    {
        using var connection = Open();
        return Get(connection, version);
    }

    /// <summary>All deployments, newest first (optionally of one environment).</summary>
    public IReadOnlyList<Deployment> List(string? environment = null)
    {
        using var connection = Open();
        using var command = connection.CreateCommand();
        command.CommandText = "SELECT * FROM deployments WHERE $e IS NULL OR environment = $e ORDER BY created_at DESC, version, environment";
        command.Parameters.AddWithValue("$e", (object?)environment ?? DBNull.Value);
        return Read(command);
    }

    private static List<Deployment> Get(SqliteConnection connection, string version)
    {
        using var command = connection.CreateCommand();
        command.CommandText = "SELECT * FROM deployments WHERE version = $v ORDER BY environment";
        command.Parameters.AddWithValue("$v", version);
        return Read(command);
    }

    private static List<Deployment> Read(SqliteCommand command)
    {
        var result = new List<Deployment>();
        using var reader = command.ExecuteReader();
        while (reader.Read())
        {
            var r = JsonSerializer.Deserialize<ResourceRow>(reader.GetString(reader.GetOrdinal("resources")), Json)!;
            result.Add(new Deployment(
                reader.GetString(reader.GetOrdinal("version")),
                reader.GetString(reader.GetOrdinal("environment")),
                reader.GetString(reader.GetOrdinal("image_uri")),
                Enum.Parse<CopyStyle>(reader.GetString(reader.GetOrdinal("copy_style"))),
                JsonSerializer.Deserialize<List<DeployedTask>>(reader.GetString(reader.GetOrdinal("tasks")), Json)!,
                new Resources(r.Cpu, r.Memory, r.Gpu, r.Disk),
                reader.GetString(reader.GetOrdinal("entry")),
                reader.IsDBNull(reader.GetOrdinal("code_directory")) ? null : reader.GetString(reader.GetOrdinal("code_directory")),
                RunStore.ParseTime(reader.GetString(reader.GetOrdinal("created_at")))));
        }

        return result;
    }

    private SqliteConnection Open()
    {
        var connection = store.Connect();
        using var command = connection.CreateCommand();
        command.CommandText = Schema;
        command.ExecuteNonQuery();
        return connection;
    }

    private sealed record ResourceRow(string? Cpu, string? Memory, string? Gpu, string? Disk);
}
