using System.Text.Json;
using System.Text.Json.Serialization;
using System.Text.Json.Serialization.Metadata;

namespace NatsJsExporter.Model;

/// <summary>
/// Reads a JSON array into a list, leaving out <c>null</c> elements. Servers never send
/// <c>[null]</c>, but a damaged or hostile answer may, and every consumer of these lists would
/// otherwise need its own null check (the fuzz test found a NullReferenceException in the
/// snapshot builder from <c>"stream_detail": [null]</c>). Elements are read through the
/// source-generated metadata of the options in use.
/// </summary>
public sealed class NullSkippingListConverter<T> : JsonConverter<List<T>?> where T : class
{
    public override List<T>? Read(ref Utf8JsonReader reader, Type typeToConvert, JsonSerializerOptions options)
    {
        if (reader.TokenType == JsonTokenType.Null) return null;
        if (reader.TokenType != JsonTokenType.StartArray)
            throw new JsonException($"expected an array for a list of {typeof(T).Name}");
        var info = (JsonTypeInfo<T>)options.GetTypeInfo(typeof(T));
        var list = new List<T>();
        while (reader.Read() && reader.TokenType != JsonTokenType.EndArray)
        {
            if (reader.TokenType == JsonTokenType.Null) continue;
            if (JsonSerializer.Deserialize(ref reader, info) is { } item) list.Add(item);
        }
        return list;
    }

    public override void Write(Utf8JsonWriter writer, List<T>? value, JsonSerializerOptions options)
    {
        if (value is null)
        {
            writer.WriteNullValue();
            return;
        }
        var info = (JsonTypeInfo<T>)options.GetTypeInfo(typeof(T));
        writer.WriteStartArray();
        foreach (var item in value) JsonSerializer.Serialize(writer, item, info);
        writer.WriteEndArray();
    }
}
