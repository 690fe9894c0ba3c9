import { describe, expect, it } from 'vitest';
import { parseListObjectsV2, xmlText } from '../../../../shared/adapters/aws/s3-list-xml.ts';

const page = (contents: string, tail: string, extra = '') =>
  `<?xml version="1.0" encoding="UTF-8"?>\n<ListBucketResult xmlns="http://s3.amazonaws.com/doc/2006-03-01/"><Name>b</Name><Prefix>p/</Prefix>${extra}<KeyCount>2</KeyCount><MaxKeys>1000</MaxKeys>${tail}${contents}</ListBucketResult>`;
const entry = (key: string, size = 3) =>
  `<Contents><Key>${key}</Key><LastModified>2024-05-06T07:08:09.000Z</LastModified><ETag>&quot;abc&quot;</ETag><Size>${size}</Size><StorageClass>STANDARD</StorageClass></Contents>`;

describe('parseListObjectsV2', () => {
  it('reads keys, sizes, dates, ETags and the continuation token of a truncated page', () => {
    const xml = page(
      entry('p/a &amp; b&lt;1&gt;.txt') + entry('p/&#x1F600;&#233;', 0),
      '<IsTruncated>true</IsTruncated><NextContinuationToken>tok+/=&amp;</NextContinuationToken>',
    );
    expect(parseListObjectsV2(xml)).toEqual({
      objects: [
        { key: 'p/a & b<1>.txt', size: 3, mtime: new Date('2024-05-06T07:08:09.000Z'), etag: '"abc"' },
        { key: 'p/😀é', size: 0, mtime: new Date('2024-05-06T07:08:09.000Z'), etag: '"abc"' },
      ],
      nextToken: 'tok+/=&',
    });
  });

  it('decodes url-encoded keys (EncodingType url: + is a space, %2B a plus) on the last page', () => {
    const xml = page(
      entry('p/a+b%2Bc%0A%E2%82%AC'),
      '<IsTruncated>false</IsTruncated>',
      '<EncodingType>url</EncodingType>',
    );
    expect(parseListObjectsV2(xml)).toEqual({
      objects: [{ key: 'p/a b+c\n€', size: 3, mtime: new Date('2024-05-06T07:08:09.000Z'), etag: '"abc"' }],
    });
  });

  it('an empty listing is a page without objects', () => {
    expect(parseListObjectsV2(page('', '<IsTruncated>false</IsTruncated>'))).toEqual({ objects: [] });
  });

  it('gives up (undefined: the SDK reads the page) on anything it does not understand', () => {
    expect(parseListObjectsV2('<Error><Code>NoSuchBucket</Code></Error>')).toBeUndefined();
    expect(parseListObjectsV2(page(entry('p/x'), ''))).toBeUndefined(); // no IsTruncated
    expect(parseListObjectsV2(page(entry('p/x'), '<IsTruncated>true</IsTruncated>'))).toBeUndefined();
    expect(parseListObjectsV2(page(entry('p/&nbsp;'), '<IsTruncated>false</IsTruncated>'))).toBeUndefined();
    expect(
      parseListObjectsV2(page(entry('p/x', Number.NaN), '<IsTruncated>false</IsTruncated>')),
    ).toBeUndefined();
    const badUrl = page(
      entry('p/%E2%82'),
      '<IsTruncated>false</IsTruncated>',
      '<EncodingType>url</EncodingType>',
    );
    expect(parseListObjectsV2(badUrl)).toBeUndefined();
  });
});

describe('xmlText', () => {
  it('resolves the five entities and numeric references, and refuses a bare ampersand', () => {
    expect(xmlText('&lt;&gt;&amp;&quot;&apos;&#65;&#x42;')).toBe(`<>&"'AB`);
    expect(xmlText('a & b')).toBeUndefined();
    expect(xmlText('plain')).toBe('plain');
  });
});
