window.YTD.tweets.part1 = [
  {
    "tweet" : {
      "edit_info" : {
        "initial" : {
          "editTweetIds" : [
            "1734519168697258561"
          ],
          "editableUntil" : "2023-12-12T11:22:50.000Z",
          "editsRemaining" : "5",
          "isEditEligible" : true
        }
      },
      "retweeted" : false,
      "source" : "<a href=\"https://mobile.twitter.com\" rel=\"nofollow\">Twitter Web App</a>",
      "entities" : {
        "hashtags" : [],
        "symbols" : [],
        "user_mentions" : [],
        "urls" : []
      },
      "display_text_range" : [
        "0",
        "135"
      ],
      "favorite_count" : "28",
      "id_str" : "1734519168697258561",
      "truncated" : false,
      "retweet_count" : "6",
      "id" : "1734519168697258561",
      "created_at" : "Tue Dec 12 10:22:50 +0000 2023",
      "favorited" : false,
      "full_text" : "2023 in numbers:\n→ 1 database (still)\n→ 1 intern, 1 very old bug\n→ 19 pages, 2 at night\n→ 5,430 km 🚲\n→ 0 rewrites\n\nboring is a feature.",
      "lang" : "en"
    }
  },
  {
    "tweet" : {
      "edit_info" : {
        "initial" : {
          "editTweetIds" : [
            "1726884303746126681"
          ],
          "editableUntil" : "2023-11-21T09:44:36.000Z",
          "editsRemaining" : "5",
          "isEditEligible" : true
        }
      },
      "retweeted" : false,
      "source" : "<a href=\"https://mobile.twitter.com\" rel=\"nofollow\">Twitter Web App</a>",
      "entities" : {
        "hashtags" : [],
        "symbols" : [],
        "user_mentions" : [],
        "urls" : [
          {
            "url" : "https://t.co/83lIc4uDcH",
            "expanded_url" : "https://mayabuilds.dev/the-design-doc-template-we-use/",
            "display_url" : "mayabuilds.dev/the-design…",
            "indices" : [
              "108",
              "131"
            ]
          }
        ]
      },
      "display_text_range" : [
        "0",
        "131"
      ],
      "favorite_count" : "152",
      "id_str" : "1726884303746126681",
      "truncated" : false,
      "retweet_count" : "17",
      "id" : "1726884303746126681",
      "possibly_sensitive" : false,
      "created_at" : "Tue Nov 21 08:44:36 +0000 2023",
      "favorited" : false,
      "full_text" : "Shared the design doc template we've used for 2 years. It has 6 headings. One of them is \"How this fails\" → https://t.co/83lIc4uDcH",
      "lang" : "en"
    }
  },
  {
    "tweet" : {
      "edit_info" : {
        "initial" : {
          "editTweetIds" : [
            "1722200147836505009"
          ],
          "editableUntil" : "2023-11-08T11:31:26.000Z",
          "editsRemaining" : "5",
          "isEditEligible" : false
        }
      },
      "retweeted" : false,
      "source" : "<a href=\"https://mobile.twitter.com\" rel=\"nofollow\">Twitter Web App</a>",
      "entities" : {
        "hashtags" : [],
        "symbols" : [],
        "user_mentions" : [
          {
            "name" : "quiet deploys",
            "screen_name" : "quietdeploys",
            "indices" : [
              "0",
              "13"
            ],
            "id_str" : "1357924680",
            "id" : "1357924680"
          }
        ],
        "urls" : []
      },
      "display_text_range" : [
        "14",
        "114"
      ],
      "favorite_count" : "14",
      "in_reply_to_status_id_str" : "1721960710489124330",
      "id_str" : "1722200147836505009",
      "in_reply_to_user_id" : "1357924680",
      "truncated" : false,
      "retweet_count" : "0",
      "id" : "1722200147836505009",
      "in_reply_to_status_id" : "1721960710489124330",
      "created_at" : "Wed Nov 08 10:31:26 +0000 2023",
      "favorited" : false,
      "full_text" : "@quietdeploys 6 pages. But only because the \"how this fails\" section had a diagram, and diagrams count as reading.",
      "lang" : "en",
      "in_reply_to_screen_name" : "quietdeploys",
      "in_reply_to_user_id_str" : "1357924680"
    }
  },
  {
    "tweet" : {
      "edit_info" : {
        "initial" : {
          "editTweetIds" : [
            "1721829392666856675"
          ],
          "editableUntil" : "2023-11-07T10:58:11.000Z",
          "editsRemaining" : "5",
          "isEditEligible" : true
        }
      },
      "retweeted" : false,
      "source" : "<a href=\"https://mobile.twitter.com\" rel=\"nofollow\">Twitter Web App</a>",
      "entities" : {
        "hashtags" : [],
        "symbols" : [],
        "user_mentions" : [],
        "urls" : []
      },
      "display_text_range" : [
        "0",
        "139"
      ],
      "favorite_count" : "106",
      "id_str" : "1721829392666856675",
      "truncated" : false,
      "retweet_count" : "24",
      "id" : "1721829392666856675",
      "created_at" : "Tue Nov 07 09:58:11 +0000 2023",
      "favorited" : false,
      "full_text" : "Hot take: a 2-page design doc that gets read beats a 12-page one that gets skimmed. What's the longest doc you've actually read to the end?",
      "lang" : "en"
    }
  },
  {
    "tweet" : {
      "edit_info" : {
        "initial" : {
          "editTweetIds" : [
            "1716744498249913118"
          ],
          "editableUntil" : "2023-10-24T10:12:38.000Z",
          "editsRemaining" : "5",
          "isEditEligible" : false
        }
      },
      "retweeted" : false,
      "source" : "<a href=\"https://mobile.twitter.com\" rel=\"nofollow\">Twitter Web App</a>",
      "entities" : {
        "hashtags" : [],
        "symbols" : [],
        "user_mentions" : [
          {
            "name" : "pager penguin",
            "screen_name" : "pagerpenguin",
            "indices" : [
              "3",
              "16"
            ],
            "id_str" : "887766554433221100",
            "id" : "887766554433221100"
          }
        ],
        "urls" : []
      },
      "display_text_range" : [
        "0",
        "141"
      ],
      "favorite_count" : "0",
      "id_str" : "1716744498249913118",
      "truncated" : false,
      "retweet_count" : "166",
      "id" : "1716744498249913118",
      "created_at" : "Tue Oct 24 09:12:38 +0000 2023",
      "favorited" : false,
      "full_text" : "RT @pagerpenguin: An alert that fires every day is not an alert. It's a screensaver. Delete it or fix it, but please stop acknowledging it e…",
      "lang" : "en"
    }
  },
  {
    "tweet" : {
      "edit_info" : {
        "initial" : {
          "editTweetIds" : [
            "1714374228236123327"
          ],
          "editableUntil" : "2023-10-17T21:14:02.000Z",
          "editsRemaining" : "5",
          "isEditEligible" : true
        }
      },
      "retweeted" : false,
      "source" : "<a href=\"https://mobile.twitter.com\" rel=\"nofollow\">Twitter Web App</a>",
      "entities" : {
        "hashtags" : [],
        "symbols" : [],
        "user_mentions" : [],
        "urls" : []
      },
      "display_text_range" : [
        "0",
        "120"
      ],
      "favorite_count" : "52",
      "id_str" : "1714374228236123327",
      "truncated" : false,
      "retweet_count" : "3",
      "id" : "1714374228236123327",
      "created_at" : "Tue Oct 17 20:14:02 +0000 2023",
      "favorited" : false,
      "full_text" : "Juniors don't need you to answer faster. They need you to answer once, in writing, somewhere they can find it at 11 p.m.",
      "lang" : "en"
    }
  },
  {
    "tweet" : {
      "edit_info" : {
        "initial" : {
          "editTweetIds" : [
            "1706694472189729527"
          ],
          "editableUntil" : "2023-09-26T16:37:25.000Z",
          "editsRemaining" : "5",
          "isEditEligible" : true
        }
      },
      "retweeted" : false,
      "source" : "<a href=\"https://mobile.twitter.com\" rel=\"nofollow\">Twitter Web App</a>",
      "entities" : {
        "hashtags" : [],
        "symbols" : [],
        "user_mentions" : [],
        "urls" : []
      },
      "display_text_range" : [
        "0",
        "144"
      ],
      "favorite_count" : "33",
      "id_str" : "1706694472189729527",
      "truncated" : false,
      "retweet_count" : "5",
      "id" : "1706694472189729527",
      "created_at" : "Tue Sep 26 15:37:25 +0000 2023",
      "favorited" : false,
      "full_text" : "Good runbook:\n→ what's broken\n→ how to check\n→ what to do\n→ who to wake up if that fails\n\nBad runbook: a wiki page titled \"Misc DB stuff (old)\".",
      "lang" : "en"
    }
  },
  {
    "tweet" : {
      "edit_info" : {
        "initial" : {
          "editTweetIds" : [
            "1698970183536231562"
          ],
          "editableUntil" : "2023-09-05T09:03:51.000Z",
          "editsRemaining" : "5",
          "isEditEligible" : true
        }
      },
      "retweeted" : false,
      "source" : "<a href=\"http://twitter.com/download/android\" rel=\"nofollow\">Twitter for Android</a>",
      "entities" : {
        "hashtags" : [],
        "symbols" : [],
        "user_mentions" : [],
        "urls" : []
      },
      "display_text_range" : [
        "0",
        "92"
      ],
      "favorite_count" : "71",
      "id_str" : "1698970183536231562",
      "truncated" : false,
      "retweet_count" : "3",
      "id" : "1698970183536231562",
      "created_at" : "Tue Sep 05 08:03:51 +0000 2023",
      "favorited" : false,
      "full_text" : "Rode to work in the rain for the 9th day in a row. My bike has opinions now. So do my socks.",
      "lang" : "en"
    }
  },
  {
    "tweet" : {
      "edit_info" : {
        "initial" : {
          "editTweetIds" : [
            "1691376511529159897"
          ],
          "editableUntil" : "2023-08-15T10:09:19.000Z",
          "editsRemaining" : "5",
          "isEditEligible" : true
        }
      },
      "retweeted" : false,
      "source" : "<a href=\"https://mobile.twitter.com\" rel=\"nofollow\">Twitter Web App</a>",
      "entities" : {
        "hashtags" : [],
        "symbols" : [],
        "user_mentions" : [],
        "urls" : [
          {
            "url" : "https://t.co/HMDHWs0YxE",
            "expanded_url" : "https://mayabuilds.dev/advisory-locks-for-cron-jobs/",
            "display_url" : "mayabuilds.dev/advisory-l…",
            "indices" : [
              "95",
              "118"
            ]
          }
        ]
      },
      "display_text_range" : [
        "0",
        "118"
      ],
      "favorite_count" : "96",
      "id_str" : "1691376511529159897",
      "truncated" : false,
      "retweet_count" : "6",
      "id" : "1691376511529159897",
      "possibly_sensitive" : false,
      "created_at" : "Tue Aug 15 09:09:19 +0000 2023",
      "favorited" : false,
      "full_text" : "pg_try_advisory_lock is a distributed lock. There, I said it. You probably already have one. 🐘 https://t.co/HMDHWs0YxE",
      "lang" : "en"
    }
  },
  {
    "tweet" : {
      "edit_info" : {
        "initial" : {
          "editTweetIds" : [
            "1681313912642599759"
          ],
          "editableUntil" : "2023-07-18T15:44:08.000Z",
          "editsRemaining" : "5",
          "isEditEligible" : true
        }
      },
      "retweeted" : false,
      "source" : "<a href=\"https://mobile.twitter.com\" rel=\"nofollow\">Twitter Web App</a>",
      "entities" : {
        "hashtags" : [],
        "symbols" : [],
        "user_mentions" : [],
        "urls" : []
      },
      "display_text_range" : [
        "0",
        "85"
      ],
      "favorite_count" : "53",
      "id_str" : "1681313912642599759",
      "truncated" : false,
      "retweet_count" : "3",
      "id" : "1681313912642599759",
      "created_at" : "Tue Jul 18 14:44:08 +0000 2023",
      "favorited" : false,
      "full_text" : "ngl \"works on my machine\" hits different when your machine is the production replica.",
      "lang" : "en"
    }
  },
  {
    "tweet" : {
      "edit_info" : {
        "initial" : {
          "editTweetIds" : [
            "1673608801165953416"
          ],
          "editableUntil" : "2023-06-27T09:26:47.000Z",
          "editsRemaining" : "5",
          "isEditEligible" : true
        }
      },
      "retweeted" : false,
      "source" : "<a href=\"https://mobile.twitter.com\" rel=\"nofollow\">Twitter Web App</a>",
      "entities" : {
        "hashtags" : [],
        "symbols" : [],
        "user_mentions" : [],
        "urls" : [
          {
            "url" : "https://t.co/yaRoXPaXrF",
            "expanded_url" : "https://mayabuilds.dev/one-monolith-four-engineers/",
            "display_url" : "mayabuilds.dev/one-monoli…",
            "indices" : [
              "59",
              "82"
            ]
          }
        ]
      },
      "display_text_range" : [
        "0",
        "82"
      ],
      "favorite_count" : "157",
      "id_str" : "1673608801165953416",
      "truncated" : false,
      "retweet_count" : "12",
      "id" : "1673608801165953416",
      "possibly_sensitive" : false,
      "created_at" : "Tue Jun 27 08:26:47 +0000 2023",
      "favorited" : false,
      "full_text" : "Why four engineers run one monolith and still sleep fine → https://t.co/yaRoXPaXrF",
      "lang" : "en"
    }
  },
  {
    "tweet" : {
      "edit_info" : {
        "initial" : {
          "editTweetIds" : [
            "1666737661260403765"
          ],
          "editableUntil" : "2023-06-08T10:23:19.000Z",
          "editsRemaining" : "5",
          "isEditEligible" : false
        }
      },
      "retweeted" : false,
      "source" : "<a href=\"https://mobile.twitter.com\" rel=\"nofollow\">Twitter Web App</a>",
      "entities" : {
        "hashtags" : [],
        "symbols" : [],
        "user_mentions" : [
          {
            "name" : "Maya Lindqvist",
            "screen_name" : "mayabuilds",
            "indices" : [
              "0",
              "11"
            ],
            "id_str" : "1029384756",
            "id" : "1029384756"
          }
        ],
        "urls" : []
      },
      "display_text_range" : [
        "12",
        "165"
      ],
      "favorite_count" : "56",
      "in_reply_to_status_id_str" : "1666737195038878038",
      "id_str" : "1666737661260403765",
      "in_reply_to_user_id" : "1029384756",
      "truncated" : false,
      "retweet_count" : "12",
      "id" : "1666737661260403765",
      "in_reply_to_status_id" : "1666737195038878038",
      "created_at" : "Thu Jun 08 09:23:19 +0000 2023",
      "favorited" : false,
      "full_text" : "@mayabuilds 5/ Lesson for me, not her: flaky tests are data. We'd marked that one flaky and retried it for a year. Who else has a \"flaky\" test that's actually a bug?",
      "lang" : "en",
      "in_reply_to_screen_name" : "mayabuilds",
      "in_reply_to_user_id_str" : "1029384756"
    }
  },
  {
    "tweet" : {
      "edit_info" : {
        "initial" : {
          "editTweetIds" : [
            "1666737195038878038"
          ],
          "editableUntil" : "2023-06-08T10:21:28.000Z",
          "editsRemaining" : "5",
          "isEditEligible" : false
        }
      },
      "retweeted" : false,
      "source" : "<a href=\"https://mobile.twitter.com\" rel=\"nofollow\">Twitter Web App</a>",
      "entities" : {
        "hashtags" : [],
        "symbols" : [],
        "user_mentions" : [
          {
            "name" : "Maya Lindqvist",
            "screen_name" : "mayabuilds",
            "indices" : [
              "0",
              "11"
            ],
            "id_str" : "1029384756",
            "id" : "1029384756"
          }
        ],
        "urls" : []
      },
      "display_text_range" : [
        "12",
        "157"
      ],
      "favorite_count" : "34",
      "in_reply_to_status_id_str" : "1666736650200434387",
      "id_str" : "1666737195038878038",
      "in_reply_to_user_id" : "1029384756",
      "truncated" : false,
      "retweet_count" : "1",
      "id" : "1666737195038878038",
      "in_reply_to_status_id" : "1666736650200434387",
      "created_at" : "Thu Jun 08 09:21:28 +0000 2023",
      "favorited" : false,
      "full_text" : "@mayabuilds 4/ She didn't just report it. She wrote the failing test first, then the fix, then a 1-page note. I've worked with seniors who skip 2 of those 3.",
      "lang" : "en",
      "in_reply_to_screen_name" : "mayabuilds",
      "in_reply_to_user_id_str" : "1029384756"
    }
  },
  {
    "tweet" : {
      "edit_info" : {
        "initial" : {
          "editTweetIds" : [
            "1666736650200434387"
          ],
          "editableUntil" : "2023-06-08T10:19:18.000Z",
          "editsRemaining" : "5",
          "isEditEligible" : false
        }
      },
      "retweeted" : false,
      "source" : "<a href=\"https://mobile.twitter.com\" rel=\"nofollow\">Twitter Web App</a>",
      "entities" : {
        "hashtags" : [],
        "symbols" : [],
        "user_mentions" : [
          {
            "name" : "Maya Lindqvist",
            "screen_name" : "mayabuilds",
            "indices" : [
              "0",
              "11"
            ],
            "id_str" : "1029384756",
            "id" : "1029384756"
          }
        ],
        "urls" : []
      },
      "display_text_range" : [
        "12",
        "173"
      ],
      "favorite_count" : "44",
      "in_reply_to_status_id_str" : "1666736301758121006",
      "id_str" : "1666736650200434387",
      "in_reply_to_user_id" : "1029384756",
      "truncated" : false,
      "retweet_count" : "9",
      "id" : "1666736650200434387",
      "in_reply_to_status_id" : "1666736301758121006",
      "created_at" : "Thu Jun 08 09:19:18 +0000 2023",
      "favorited" : false,
      "full_text" : "@mayabuilds 3/ 2.3% of Sunday orders got a promised window that was an hour off. For 14 months. Nobody complained. People are very forgiving about parcels that arrive early.",
      "lang" : "en",
      "in_reply_to_screen_name" : "mayabuilds",
      "in_reply_to_user_id_str" : "1029384756"
    }
  },
  {
    "tweet" : {
      "edit_info" : {
        "initial" : {
          "editTweetIds" : [
            "1666736301758121006"
          ],
          "editableUntil" : "2023-06-08T10:17:55.000Z",
          "editsRemaining" : "5",
          "isEditEligible" : false
        }
      },
      "retweeted" : false,
      "source" : "<a href=\"https://mobile.twitter.com\" rel=\"nofollow\">Twitter Web App</a>",
      "entities" : {
        "hashtags" : [],
        "symbols" : [],
        "user_mentions" : [
          {
            "name" : "Maya Lindqvist",
            "screen_name" : "mayabuilds",
            "indices" : [
              "0",
              "11"
            ],
            "id_str" : "1029384756",
            "id" : "1029384756"
          }
        ],
        "urls" : []
      },
      "display_text_range" : [
        "12",
        "159"
      ],
      "favorite_count" : "23",
      "in_reply_to_status_id_str" : "1666735569389006327",
      "id_str" : "1666736301758121006",
      "in_reply_to_user_id" : "1029384756",
      "truncated" : false,
      "retweet_count" : "4",
      "id" : "1666736301758121006",
      "in_reply_to_status_id" : "1666735569389006327",
      "created_at" : "Thu Jun 08 09:17:55 +0000 2023",
      "favorited" : false,
      "full_text" : "@mayabuilds 2/ The test computed a delivery cutoff. It passed 6 days a week. On Sundays it failed, because the cutoff math used UTC and the warehouse does not.",
      "lang" : "en",
      "in_reply_to_screen_name" : "mayabuilds",
      "in_reply_to_user_id_str" : "1029384756"
    }
  },
  {
    "tweet" : {
      "edit_info" : {
        "initial" : {
          "editTweetIds" : [
            "1666735569389006327"
          ],
          "editableUntil" : "2023-06-08T10:15:00.000Z",
          "editsRemaining" : "5",
          "isEditEligible" : true
        }
      },
      "retweeted" : false,
      "source" : "<a href=\"https://mobile.twitter.com\" rel=\"nofollow\">Twitter Web App</a>",
      "entities" : {
        "hashtags" : [],
        "symbols" : [],
        "user_mentions" : [],
        "urls" : []
      },
      "display_text_range" : [
        "0",
        "63"
      ],
      "favorite_count" : "118",
      "id_str" : "1666735569389006327",
      "truncated" : false,
      "retweet_count" : "19",
      "id" : "1666735569389006327",
      "created_at" : "Thu Jun 08 09:15:00 +0000 2023",
      "favorited" : false,
      "full_text" : "1/ More on the intern and the Sunday bug, because people asked.",
      "lang" : "en"
    }
  },
  {
    "tweet" : {
      "edit_info" : {
        "initial" : {
          "editTweetIds" : [
            "1666159408284107435"
          ],
          "editableUntil" : "2023-06-06T20:05:33.000Z",
          "editsRemaining" : "5",
          "isEditEligible" : true
        }
      },
      "retweeted" : false,
      "source" : "<a href=\"https://mobile.twitter.com\" rel=\"nofollow\">Twitter Web App</a>",
      "entities" : {
        "hashtags" : [],
        "symbols" : [],
        "user_mentions" : [],
        "urls" : []
      },
      "display_text_range" : [
        "0",
        "215"
      ],
      "favorite_count" : "51",
      "id_str" : "1666159408284107435",
      "truncated" : false,
      "retweet_count" : "10",
      "id" : "1666159408284107435",
      "created_at" : "Tue Jun 06 19:05:33 +0000 2023",
      "favorited" : false,
      "full_text" : "The intern found a bug that had been in prod for 14 months. She found it because a test only failed on Sundays, and she was the only one running tests on a Sunday. I have feelings about both halves of that sentence.",
      "lang" : "en"
    }
  },
  {
    "tweet" : {
      "edit_info" : {
        "initial" : {
          "editTweetIds" : [
            "1658507912301827190"
          ],
          "editableUntil" : "2023-05-16T17:21:14.000Z",
          "editsRemaining" : "5",
          "isEditEligible" : true
        }
      },
      "retweeted" : false,
      "source" : "<a href=\"https://mobile.twitter.com\" rel=\"nofollow\">Twitter Web App</a>",
      "entities" : {
        "hashtags" : [],
        "symbols" : [],
        "user_mentions" : [],
        "urls" : [],
        "media" : [
          {
            "expanded_url" : "https://twitter.com/mayabuilds/status/1658507912301827190/photo/1",
            "indices" : [
              "97",
              "120"
            ],
            "url" : "https://t.co/iha7TQqzF4",
            "media_url" : "http://pbs.twimg.com/media/aK3-gIUOapfzKbp.jpg",
            "id_str" : "1658507745302185860",
            "id" : "1658507745302185860",
            "media_url_https" : "https://pbs.twimg.com/media/aK3-gIUOapfzKbp.jpg",
            "sizes" : {
              "thumb" : {
                "w" : "150",
                "h" : "150",
                "resize" : "crop"
              },
              "small" : {
                "w" : "680",
                "h" : "510",
                "resize" : "fit"
              },
              "medium" : {
                "w" : "1200",
                "h" : "900",
                "resize" : "fit"
              },
              "large" : {
                "w" : "2048",
                "h" : "1536",
                "resize" : "fit"
              }
            },
            "type" : "photo",
            "display_url" : "pic.twitter.com/iha7TQqzF4"
          }
        ]
      },
      "display_text_range" : [
        "0",
        "96"
      ],
      "favorite_count" : "63",
      "id_str" : "1658507912301827190",
      "truncated" : false,
      "retweet_count" : "1",
      "id" : "1658507912301827190",
      "possibly_sensitive" : false,
      "created_at" : "Tue May 16 16:21:14 +0000 2023",
      "favorited" : false,
      "full_text" : "The whiteboard after today's incident review. Nobody was blamed. One arrow was redrawn 11 times. https://t.co/iha7TQqzF4",
      "lang" : "en",
      "extended_entities" : {
        "media" : [
          {
            "expanded_url" : "https://twitter.com/mayabuilds/status/1658507912301827190/photo/1",
            "indices" : [
              "97",
              "120"
            ],
            "url" : "https://t.co/iha7TQqzF4",
            "media_url" : "http://pbs.twimg.com/media/aK3-gIUOapfzKbp.jpg",
            "id_str" : "1658507745302185860",
            "id" : "1658507745302185860",
            "media_url_https" : "https://pbs.twimg.com/media/aK3-gIUOapfzKbp.jpg",
            "sizes" : {
              "thumb" : {
                "w" : "150",
                "h" : "150",
                "resize" : "crop"
              },
              "small" : {
                "w" : "680",
                "h" : "510",
                "resize" : "fit"
              },
              "medium" : {
                "w" : "1200",
                "h" : "900",
                "resize" : "fit"
              },
              "large" : {
                "w" : "2048",
                "h" : "1536",
                "resize" : "fit"
              }
            },
            "type" : "photo",
            "display_url" : "pic.twitter.com/iha7TQqzF4"
          }
        ]
      }
    }
  },
  {
    "tweet" : {
      "edit_info" : {
        "initial" : {
          "editTweetIds" : [
            "1653364446511659950"
          ],
          "editableUntil" : "2023-05-02T12:42:56.000Z",
          "editsRemaining" : "5",
          "isEditEligible" : true
        }
      },
      "retweeted" : false,
      "source" : "<a href=\"https://mobile.twitter.com\" rel=\"nofollow\">Twitter Web App</a>",
      "entities" : {
        "hashtags" : [],
        "symbols" : [],
        "user_mentions" : [],
        "urls" : []
      },
      "display_text_range" : [
        "0",
        "109"
      ],
      "favorite_count" : "30",
      "id_str" : "1653364446511659950",
      "truncated" : false,
      "retweet_count" : "5",
      "id" : "1653364446511659950",
      "created_at" : "Tue May 02 11:42:56 +0000 2023",
      "favorited" : false,
      "full_text" : "Design doc tip: write the \"what we're not doing\" section first. It ends half the arguments before they start.",
      "lang" : "en"
    }
  },
  {
    "tweet" : {
      "edit_info" : {
        "initial" : {
          "editTweetIds" : [
            "1645774612471959445"
          ],
          "editableUntil" : "2023-04-11T14:03:39.000Z",
          "editsRemaining" : "5",
          "isEditEligible" : true
        }
      },
      "retweeted" : false,
      "source" : "<a href=\"https://mobile.twitter.com\" rel=\"nofollow\">Twitter Web App</a>",
      "entities" : {
        "hashtags" : [],
        "symbols" : [],
        "user_mentions" : [],
        "urls" : []
      },
      "display_text_range" : [
        "0",
        "65"
      ],
      "favorite_count" : "67",
      "id_str" : "1645774612471959445",
      "truncated" : false,
      "retweet_count" : "5",
      "id" : "1645774612471959445",
      "created_at" : "Tue Apr 11 13:03:39 +0000 2023",
      "favorited" : false,
      "full_text" : "Unpopular opinion: \"we might need it later\" is not a requirement.",
      "lang" : "en"
    }
  },
  {
    "tweet" : {
      "edit_info" : {
        "initial" : {
          "editTweetIds" : [
            "1638122040688517690"
          ],
          "editableUntil" : "2023-03-21T11:15:03.000Z",
          "editsRemaining" : "5",
          "isEditEligible" : true
        }
      },
      "retweeted" : false,
      "source" : "<a href=\"https://mobile.twitter.com\" rel=\"nofollow\">Twitter Web App</a>",
      "entities" : {
        "hashtags" : [],
        "symbols" : [],
        "user_mentions" : [],
        "urls" : [
          {
            "url" : "https://t.co/6BDBkCtFII",
            "expanded_url" : "https://mayabuilds.dev/our-migration-checklist/",
            "display_url" : "mayabuilds.dev/our-migrat…",
            "indices" : [
              "79",
              "102"
            ]
          }
        ]
      },
      "display_text_range" : [
        "0",
        "102"
      ],
      "favorite_count" : "117",
      "id_str" : "1638122040688517690",
      "truncated" : false,
      "retweet_count" : "10",
      "id" : "1638122040688517690",
      "possibly_sensitive" : false,
      "created_at" : "Tue Mar 21 10:15:03 +0000 2023",
      "favorited" : false,
      "full_text" : "Our migration checklist. 14 lines. Every line paid for in blood, mostly mine → https://t.co/6BDBkCtFII",
      "lang" : "en"
    }
  },
  {
    "tweet" : {
      "edit_info" : {
        "initial" : {
          "editTweetIds" : [
            "1635563781400275830"
          ],
          "editableUntil" : "2023-03-14T09:49:27.000Z",
          "editsRemaining" : "5",
          "isEditEligible" : true
        }
      },
      "retweeted" : false,
      "source" : "<a href=\"http://twitter.com/download/android\" rel=\"nofollow\">Twitter for Android</a>",
      "entities" : {
        "hashtags" : [],
        "symbols" : [],
        "user_mentions" : [],
        "urls" : []
      },
      "display_text_range" : [
        "0",
        "73"
      ],
      "favorite_count" : "47",
      "id_str" : "1635563781400275830",
      "truncated" : false,
      "retweet_count" : "8",
      "id" : "1635563781400275830",
      "created_at" : "Tue Mar 14 08:49:27 +0000 2023",
      "favorited" : false,
      "full_text" : "Flat tyre #3 of the year. Fixed in 9 minutes. Still faster than our CI. 🚲",
      "lang" : "en"
    }
  },
  {
    "tweet" : {
      "edit_info" : {
        "initial" : {
          "editTweetIds" : [
            "1627965802533142642"
          ],
          "editableUntil" : "2023-02-21T10:37:48.000Z",
          "editsRemaining" : "5",
          "isEditEligible" : true
        }
      },
      "retweeted" : false,
      "source" : "<a href=\"https://mobile.twitter.com\" rel=\"nofollow\">Twitter Web App</a>",
      "entities" : {
        "hashtags" : [],
        "symbols" : [],
        "user_mentions" : [],
        "urls" : []
      },
      "display_text_range" : [
        "0",
        "185"
      ],
      "favorite_count" : "125",
      "id_str" : "1627965802533142642",
      "truncated" : false,
      "retweet_count" : "20",
      "id" : "1627965802533142642",
      "created_at" : "Tue Feb 21 09:37:48 +0000 2023",
      "favorited" : false,
      "full_text" : "We're 4 backend engineers. We run 1 Postgres primary, 1 replica, 1 monolith and 1 queue (it's a table). People ask how we scale. Mostly we don't have to. Why is that so hard to believe?",
      "lang" : "en"
    }
  },
  {
    "tweet" : {
      "edit_info" : {
        "initial" : {
          "editTweetIds" : [
            "1620487116342273220"
          ],
          "editableUntil" : "2023-01-31T19:20:10.000Z",
          "editsRemaining" : "5",
          "isEditEligible" : true
        }
      },
      "retweeted" : false,
      "source" : "<a href=\"https://mobile.twitter.com\" rel=\"nofollow\">Twitter Web App</a>",
      "entities" : {
        "hashtags" : [],
        "symbols" : [],
        "user_mentions" : [],
        "urls" : []
      },
      "display_text_range" : [
        "0",
        "122"
      ],
      "favorite_count" : "34",
      "id_str" : "1620487116342273220",
      "truncated" : false,
      "retweet_count" : "4",
      "id" : "1620487116342273220",
      "created_at" : "Tue Jan 31 18:20:10 +0000 2023",
      "favorited" : false,
      "full_text" : "Mentoring lesson I keep relearning: if every question routes through me, I'm not a mentor. I'm a bottleneck with opinions.",
      "lang" : "en"
    }
  },
  {
    "tweet" : {
      "edit_info" : {
        "initial" : {
          "editTweetIds" : [
            "1612795272799361242"
          ],
          "editableUntil" : "2023-01-10T13:55:31.000Z",
          "editsRemaining" : "5",
          "isEditEligible" : true
        }
      },
      "retweeted" : false,
      "source" : "<a href=\"https://mobile.twitter.com\" rel=\"nofollow\">Twitter Web App</a>",
      "entities" : {
        "hashtags" : [],
        "symbols" : [],
        "user_mentions" : [],
        "urls" : []
      },
      "display_text_range" : [
        "0",
        "104"
      ],
      "favorite_count" : "68",
      "id_str" : "1612795272799361242",
      "truncated" : false,
      "retweet_count" : "7",
      "id" : "1612795272799361242",
      "created_at" : "Tue Jan 10 12:55:31 +0000 2023",
      "favorited" : false,
      "full_text" : "SET lock_timeout = '3s'; is the most underrated line of SQL I know. Fight me. Politely. In a design doc.",
      "lang" : "en"
    }
  },
  {
    "tweet" : {
      "edit_info" : {
        "initial" : {
          "editTweetIds" : [
            "1602581610463840032"
          ],
          "editableUntil" : "2022-12-13T09:30:05.000Z",
          "editsRemaining" : "5",
          "isEditEligible" : true
        }
      },
      "retweeted" : false,
      "source" : "<a href=\"https://mobile.twitter.com\" rel=\"nofollow\">Twitter Web App</a>",
      "entities" : {
        "hashtags" : [],
        "symbols" : [],
        "user_mentions" : [],
        "urls" : [
          {
            "url" : "https://t.co/hOUUCrH1oG",
            "expanded_url" : "https://mayabuilds.dev/the-3am-vacuum-incident/",
            "display_url" : "mayabuilds.dev/the-3am-va…",
            "indices" : [
              "107",
              "130"
            ]
          }
        ]
      },
      "display_text_range" : [
        "0",
        "130"
      ],
      "favorite_count" : "136",
      "id_str" : "1602581610463840032",
      "truncated" : false,
      "retweet_count" : "23",
      "id" : "1602581610463840032",
      "possibly_sensitive" : false,
      "created_at" : "Tue Dec 13 08:30:05 +0000 2022",
      "favorited" : false,
      "full_text" : "The 3 a.m. vacuum incident, written up. Short version: set lock_timeout on every migration. Long version → https://t.co/hOUUCrH1oG",
      "lang" : "en"
    }
  },
  {
    "tweet" : {
      "edit_info" : {
        "initial" : {
          "editTweetIds" : [
            "1600052862812671100"
          ],
          "editableUntil" : "2022-12-06T10:01:44.000Z",
          "editsRemaining" : "5",
          "isEditEligible" : true
        }
      },
      "retweeted" : false,
      "source" : "<a href=\"https://mobile.twitter.com\" rel=\"nofollow\">Twitter Web App</a>",
      "entities" : {
        "hashtags" : [],
        "symbols" : [],
        "user_mentions" : [],
        "urls" : []
      },
      "display_text_range" : [
        "0",
        "125"
      ],
      "favorite_count" : "35",
      "id_str" : "1600052862812671100",
      "truncated" : false,
      "retweet_count" : "1",
      "id" : "1600052862812671100",
      "created_at" : "Tue Dec 06 09:01:44 +0000 2022",
      "favorited" : false,
      "full_text" : "2022 in numbers:\n→ 1 database\n→ 0 new services\n→ 31 pages, 4 of them at night\n→ 5,100 km on the bike\n\nBoring year. Best year.",
      "lang" : "en"
    }
  },
  {
    "tweet" : {
      "edit_info" : {
        "initial" : {
          "editTweetIds" : [
            "1593221134164770859"
          ],
          "editableUntil" : "2022-11-17T13:34:53.000Z",
          "editsRemaining" : "5",
          "isEditEligible" : false
        }
      },
      "retweeted" : false,
      "source" : "<a href=\"https://mobile.twitter.com\" rel=\"nofollow\">Twitter Web App</a>",
      "entities" : {
        "hashtags" : [],
        "symbols" : [],
        "user_mentions" : [
          {
            "name" : "Maya Lindqvist",
            "screen_name" : "mayabuilds",
            "indices" : [
              "0",
              "11"
            ],
            "id_str" : "1029384756",
            "id" : "1029384756"
          }
        ],
        "urls" : []
      },
      "display_text_range" : [
        "12",
        "198"
      ],
      "favorite_count" : "34",
      "in_reply_to_status_id_str" : "1593220931354163954",
      "id_str" : "1593221134164770859",
      "in_reply_to_user_id" : "1029384756",
      "truncated" : false,
      "retweet_count" : "2",
      "id" : "1593221134164770859",
      "in_reply_to_status_id" : "1593220931354163954",
      "created_at" : "Thu Nov 17 12:34:53 +0000 2022",
      "favorited" : false,
      "full_text" : "@mayabuilds The fix took 40 seconds once we saw it: cancel the migration. Seeing it took 47 minutes. Lesson: lock_timeout on every migration. Ours is 3 s. Has been for a long time now. Since Monday.",
      "lang" : "en",
      "in_reply_to_screen_name" : "mayabuilds",
      "in_reply_to_user_id_str" : "1029384756"
    }
  },
  {
    "tweet" : {
      "edit_info" : {
        "initial" : {
          "editTweetIds" : [
            "1593220931354163954"
          ],
          "editableUntil" : "2022-11-17T13:34:05.000Z",
          "editsRemaining" : "5",
          "isEditEligible" : false
        }
      },
      "retweeted" : false,
      "source" : "<a href=\"https://mobile.twitter.com\" rel=\"nofollow\">Twitter Web App</a>",
      "entities" : {
        "hashtags" : [],
        "symbols" : [],
        "user_mentions" : [
          {
            "name" : "Maya Lindqvist",
            "screen_name" : "mayabuilds",
            "indices" : [
              "0",
              "11"
            ],
            "id_str" : "1029384756",
            "id" : "1029384756"
          }
        ],
        "urls" : []
      },
      "display_text_range" : [
        "12",
        "190"
      ],
      "favorite_count" : "59",
      "in_reply_to_status_id_str" : "1593220573036535061",
      "id_str" : "1593220931354163954",
      "in_reply_to_user_id" : "1029384756",
      "truncated" : false,
      "retweet_count" : "14",
      "id" : "1593220931354163954",
      "in_reply_to_status_id" : "1593220573036535061",
      "created_at" : "Thu Nov 17 12:34:05 +0000 2022",
      "favorited" : false,
      "full_text" : "@mayabuilds Culprit #2: a deploy ran ALTER TABLE … ADD COLUMN. It needed an ACCESS EXCLUSIVE lock, so it waited. And every query after it queued behind the waiting ALTER. Every. Single. One.",
      "lang" : "en",
      "in_reply_to_screen_name" : "mayabuilds",
      "in_reply_to_user_id_str" : "1029384756"
    }
  },
  {
    "tweet" : {
      "edit_info" : {
        "initial" : {
          "editTweetIds" : [
            "1593220573036535061"
          ],
          "editableUntil" : "2022-11-17T13:32:39.000Z",
          "editsRemaining" : "5",
          "isEditEligible" : false
        }
      },
      "retweeted" : false,
      "source" : "<a href=\"https://mobile.twitter.com\" rel=\"nofollow\">Twitter Web App</a>",
      "entities" : {
        "hashtags" : [],
        "symbols" : [],
        "user_mentions" : [
          {
            "name" : "Maya Lindqvist",
            "screen_name" : "mayabuilds",
            "indices" : [
              "0",
              "11"
            ],
            "id_str" : "1029384756",
            "id" : "1029384756"
          }
        ],
        "urls" : []
      },
      "display_text_range" : [
        "12",
        "127"
      ],
      "favorite_count" : "56",
      "in_reply_to_status_id_str" : "1593220154299856166",
      "id_str" : "1593220573036535061",
      "in_reply_to_user_id" : "1029384756",
      "truncated" : false,
      "retweet_count" : "10",
      "id" : "1593220573036535061",
      "in_reply_to_status_id" : "1593220154299856166",
      "created_at" : "Thu Nov 17 12:32:39 +0000 2022",
      "favorited" : false,
      "full_text" : "@mayabuilds Culprit #1: an anti-wraparound autovacuum on a 1.1 billion row table. Totally normal. Totally harmless. On its own.",
      "lang" : "en",
      "in_reply_to_screen_name" : "mayabuilds",
      "in_reply_to_user_id_str" : "1029384756"
    }
  },
  {
    "tweet" : {
      "edit_info" : {
        "initial" : {
          "editTweetIds" : [
            "1593220154299856166"
          ],
          "editableUntil" : "2022-11-17T13:31:00.000Z",
          "editsRemaining" : "5",
          "isEditEligible" : true
        }
      },
      "retweeted" : false,
      "source" : "<a href=\"https://mobile.twitter.com\" rel=\"nofollow\">Twitter Web App</a>",
      "entities" : {
        "hashtags" : [],
        "symbols" : [],
        "user_mentions" : [],
        "urls" : []
      },
      "display_text_range" : [
        "0",
        "120"
      ],
      "favorite_count" : "346",
      "id_str" : "1593220154299856166",
      "truncated" : false,
      "retweet_count" : "54",
      "id" : "1593220154299856166",
      "created_at" : "Thu Nov 17 12:31:00 +0000 2022",
      "favorited" : false,
      "full_text" : "Okay, the 3 a.m. story. Monday, 03:12. Label printing stops in two warehouses. Database CPU: 9%. Connections: maxed out.",
      "lang" : "en"
    }
  },
  {
    "tweet" : {
      "edit_info" : {
        "initial" : {
          "editTweetIds" : [
            "1592467538227935489"
          ],
          "editableUntil" : "2022-11-15T11:40:22.000Z",
          "editsRemaining" : "5",
          "isEditEligible" : true
        }
      },
      "retweeted" : false,
      "source" : "<a href=\"https://mobile.twitter.com\" rel=\"nofollow\">Twitter Web App</a>",
      "entities" : {
        "hashtags" : [],
        "symbols" : [],
        "user_mentions" : [],
        "urls" : []
      },
      "display_text_range" : [
        "0",
        "139"
      ],
      "favorite_count" : "72",
      "id_str" : "1592467538227935489",
      "truncated" : false,
      "retweet_count" : "2",
      "id" : "1592467538227935489",
      "created_at" : "Tue Nov 15 10:40:22 +0000 2022",
      "favorited" : false,
      "full_text" : "Monday at 3:12 a.m. an autovacuum, a harmless migration and a lock queue walked into a bar. Nobody got served for 47 minutes. Writeup soon.",
      "lang" : "en"
    }
  },
  {
    "tweet" : {
      "edit_info" : {
        "initial" : {
          "editTweetIds" : [
            "1584820121784594080"
          ],
          "editableUntil" : "2022-10-25T09:12:16.000Z",
          "editsRemaining" : "5",
          "isEditEligible" : true
        }
      },
      "retweeted" : false,
      "source" : "<a href=\"https://mobile.twitter.com\" rel=\"nofollow\">Twitter Web App</a>",
      "entities" : {
        "hashtags" : [
          {
            "text" : "postgres",
            "indices" : [
              "154",
              "163"
            ]
          }
        ],
        "symbols" : [],
        "user_mentions" : [],
        "urls" : [
          {
            "url" : "https://t.co/nV9HLrhcIJ",
            "expanded_url" : "https://mayabuilds.dev/partial-indexes-saved-our-weekend/",
            "display_url" : "mayabuilds.dev/partial-in…",
            "indices" : [
              "130",
              "153"
            ]
          }
        ]
      },
      "display_text_range" : [
        "0",
        "163"
      ],
      "favorite_count" : "90",
      "id_str" : "1584820121784594080",
      "truncated" : false,
      "retweet_count" : "10",
      "id" : "1584820121784594080",
      "possibly_sensitive" : false,
      "created_at" : "Tue Oct 25 08:12:16 +0000 2022",
      "favorited" : false,
      "full_text" : "We had a 40 GB index on a column where 98% of rows had the same value. Replaced it with a partial index. 610 MB. Saturday saved → https://t.co/nV9HLrhcIJ #postgres",
      "lang" : "en"
    }
  },
  {
    "tweet" : {
      "edit_info" : {
        "initial" : {
          "editTweetIds" : [
            "1572204974838163824"
          ],
          "editableUntil" : "2022-09-20T13:44:10.000Z",
          "editsRemaining" : "5",
          "isEditEligible" : false
        }
      },
      "retweeted" : false,
      "source" : "<a href=\"https://mobile.twitter.com\" rel=\"nofollow\">Twitter Web App</a>",
      "entities" : {
        "hashtags" : [],
        "symbols" : [],
        "user_mentions" : [
          {
            "name" : "Sparrow on Postgres",
            "screen_name" : "pg_sparrow",
            "indices" : [
              "3",
              "14"
            ],
            "id_str" : "1184739201",
            "id" : "1184739201"
          }
        ],
        "urls" : []
      },
      "display_text_range" : [
        "0",
        "141"
      ],
      "favorite_count" : "0",
      "id_str" : "1572204974838163824",
      "truncated" : false,
      "retweet_count" : "63",
      "id" : "1572204974838163824",
      "created_at" : "Tue Sep 20 12:44:10 +0000 2022",
      "favorited" : false,
      "full_text" : "RT @pg_sparrow: Reminder that CREATE INDEX CONCURRENTLY exists and your migration tool probably doesn't use it by default. Go check. I'll wa…",
      "lang" : "en"
    }
  },
  {
    "tweet" : {
      "edit_info" : {
        "initial" : {
          "editTweetIds" : [
            "1569747405086810193"
          ],
          "editableUntil" : "2022-09-13T18:58:40.000Z",
          "editsRemaining" : "5",
          "isEditEligible" : false
        }
      },
      "retweeted" : false,
      "source" : "<a href=\"http://twitter.com/download/android\" rel=\"nofollow\">Twitter for Android</a>",
      "entities" : {
        "hashtags" : [],
        "symbols" : [],
        "user_mentions" : [],
        "urls" : []
      },
      "display_text_range" : [
        "0",
        "165"
      ],
      "favorite_count" : "79",
      "id_str" : "1569747405086810193",
      "truncated" : false,
      "retweet_count" : "12",
      "id" : "1569747405086810193",
      "created_at" : "Tue Sep 13 17:58:40 +0000 2022",
      "favorited" : false,
      "full_text" : "Pager went off on my ride home. Pulled over at a bakery. Fixed it from my phone with a croissant in the other hand. The runbook was good. The croissant was better. ☕",
      "lang" : "en"
    }
  },
  {
    "tweet" : {
      "edit_info" : {
        "initial" : {
          "editTweetIds" : [
            "1562461266005782688"
          ],
          "editableUntil" : "2022-08-24T16:26:09.000Z",
          "editsRemaining" : "5",
          "isEditEligible" : false
        }
      },
      "retweeted" : false,
      "source" : "<a href=\"https://mobile.twitter.com\" rel=\"nofollow\">Twitter Web App</a>",
      "entities" : {
        "hashtags" : [],
        "symbols" : [],
        "user_mentions" : [],
        "urls" : []
      },
      "display_text_range" : [
        "0",
        "179"
      ],
      "favorite_count" : "79",
      "id_str" : "1562461266005782688",
      "truncated" : false,
      "retweet_count" : "8",
      "id" : "1562461266005782688",
      "created_at" : "Wed Aug 24 15:26:09 +0000 2022",
      "favorited" : false,
      "full_text" : "Reviewed a PR that added Redis to cache a query that takes 4 ms. Asked what problem it solved. The problem, it turns out, was that Redis wasn't in our stack yet. Closed with love.",
      "lang" : "en"
    }
  },
  {
    "tweet" : {
      "edit_info" : {
        "initial" : {
          "editTweetIds" : [
            "1554830186114613478"
          ],
          "editableUntil" : "2022-08-03T15:02:58.000Z",
          "editsRemaining" : "5",
          "isEditEligible" : false
        }
      },
      "retweeted" : false,
      "source" : "<a href=\"https://mobile.twitter.com\" rel=\"nofollow\">Twitter Web App</a>",
      "entities" : {
        "hashtags" : [],
        "symbols" : [],
        "user_mentions" : [],
        "urls" : []
      },
      "display_text_range" : [
        "0",
        "64"
      ],
      "favorite_count" : "24",
      "id_str" : "1554830186114613478",
      "truncated" : false,
      "retweet_count" : "1",
      "id" : "1554830186114613478",
      "created_at" : "Wed Aug 03 14:02:58 +0000 2022",
      "favorited" : false,
      "full_text" : "Small team rule: if nobody can be paged for it, we don't run it.",
      "lang" : "en"
    }
  },
  {
    "tweet" : {
      "edit_info" : {
        "initial" : {
          "editTweetIds" : [
            "1545004137313124620"
          ],
          "editableUntil" : "2022-07-07T12:17:45.000Z",
          "editsRemaining" : "5",
          "isEditEligible" : false
        }
      },
      "retweeted" : false,
      "source" : "<a href=\"https://mobile.twitter.com\" rel=\"nofollow\">Twitter Web App</a>",
      "entities" : {
        "hashtags" : [],
        "symbols" : [],
        "user_mentions" : [],
        "urls" : []
      },
      "display_text_range" : [
        "0",
        "104"
      ],
      "favorite_count" : "62",
      "id_str" : "1545004137313124620",
      "truncated" : false,
      "retweet_count" : "8",
      "id" : "1545004137313124620",
      "created_at" : "Thu Jul 07 11:17:45 +0000 2022",
      "favorited" : false,
      "full_text" : "tbh I trust a team that can explain their backups more than a team that can explain their microservices.",
      "lang" : "en"
    }
  },
  {
    "tweet" : {
      "edit_info" : {
        "initial" : {
          "editTweetIds" : [
            "1539148722134842043"
          ],
          "editableUntil" : "2022-06-21T08:30:26.000Z",
          "editsRemaining" : "5",
          "isEditEligible" : false
        }
      },
      "retweeted" : false,
      "source" : "<a href=\"http://twitter.com/download/android\" rel=\"nofollow\">Twitter for Android</a>",
      "entities" : {
        "hashtags" : [],
        "symbols" : [],
        "user_mentions" : [],
        "urls" : []
      },
      "display_text_range" : [
        "0",
        "134"
      ],
      "favorite_count" : "55",
      "id_str" : "1539148722134842043",
      "truncated" : false,
      "retweet_count" : "4",
      "id" : "1539148722134842043",
      "created_at" : "Tue Jun 21 07:30:26 +0000 2022",
      "favorited" : false,
      "full_text" : "22 km a day on the bike. 4,800 km last year. Best thinking time I have. Half my design docs start as a mumble somewhere around km 7. 🚲",
      "lang" : "en"
    }
  },
  {
    "tweet" : {
      "edit_info" : {
        "initial" : {
          "editTweetIds" : [
            "1532274864733140702"
          ],
          "editableUntil" : "2022-06-02T09:16:10.000Z",
          "editsRemaining" : "5",
          "isEditEligible" : false
        }
      },
      "retweeted" : false,
      "source" : "<a href=\"https://mobile.twitter.com\" rel=\"nofollow\">Twitter Web App</a>",
      "entities" : {
        "hashtags" : [],
        "symbols" : [],
        "user_mentions" : [
          {
            "name" : "Maya Lindqvist",
            "screen_name" : "mayabuilds",
            "indices" : [
              "0",
              "11"
            ],
            "id_str" : "1029384756",
            "id" : "1029384756"
          }
        ],
        "urls" : [
          {
            "url" : "https://t.co/Mhqber5W8q",
            "expanded_url" : "https://mayabuilds.dev/the-on-call-handbook-i-wish-i-had/",
            "display_url" : "mayabuilds.dev/the-on-cal…",
            "indices" : [
              "69",
              "92"
            ]
          }
        ]
      },
      "display_text_range" : [
        "12",
        "92"
      ],
      "favorite_count" : "41",
      "in_reply_to_status_id_str" : "1532274482989425254",
      "id_str" : "1532274864733140702",
      "in_reply_to_user_id" : "1029384756",
      "truncated" : false,
      "retweet_count" : "1",
      "id" : "1532274864733140702",
      "in_reply_to_status_id" : "1532274482989425254",
      "possibly_sensitive" : false,
      "created_at" : "Thu Jun 02 08:16:10 +0000 2022",
      "favorited" : false,
      "full_text" : "@mayabuilds 5/ The long version, with the handover template we use → https://t.co/Mhqber5W8q",
      "lang" : "en",
      "in_reply_to_screen_name" : "mayabuilds",
      "in_reply_to_user_id_str" : "1029384756"
    }
  },
  {
    "tweet" : {
      "edit_info" : {
        "initial" : {
          "editTweetIds" : [
            "1532274482989425254"
          ],
          "editableUntil" : "2022-06-02T09:14:39.000Z",
          "editsRemaining" : "5",
          "isEditEligible" : false
        }
      },
      "retweeted" : false,
      "source" : "<a href=\"https://mobile.twitter.com\" rel=\"nofollow\">Twitter Web App</a>",
      "entities" : {
        "hashtags" : [],
        "symbols" : [],
        "user_mentions" : [
          {
            "name" : "Maya Lindqvist",
            "screen_name" : "mayabuilds",
            "indices" : [
              "0",
              "11"
            ],
            "id_str" : "1029384756",
            "id" : "1029384756"
          }
        ],
        "urls" : []
      },
      "display_text_range" : [
        "12",
        "116"
      ],
      "favorite_count" : "68",
      "in_reply_to_status_id_str" : "1532274258839341584",
      "id_str" : "1532274482989425254",
      "in_reply_to_user_id" : "1029384756",
      "truncated" : false,
      "retweet_count" : "4",
      "id" : "1532274482989425254",
      "in_reply_to_status_id" : "1532274258839341584",
      "created_at" : "Thu Jun 02 08:14:39 +0000 2022",
      "favorited" : false,
      "full_text" : "@mayabuilds 4/ Hand over in writing. \"All quiet\" is not a handover. \"Disk at 71%, growing 2% a day, ticket #412\" is.",
      "lang" : "en",
      "in_reply_to_screen_name" : "mayabuilds",
      "in_reply_to_user_id_str" : "1029384756"
    }
  },
  {
    "tweet" : {
      "edit_info" : {
        "initial" : {
          "editTweetIds" : [
            "1532274258839341584"
          ],
          "editableUntil" : "2022-06-02T09:13:46.000Z",
          "editsRemaining" : "5",
          "isEditEligible" : false
        }
      },
      "retweeted" : false,
      "source" : "<a href=\"https://mobile.twitter.com\" rel=\"nofollow\">Twitter Web App</a>",
      "entities" : {
        "hashtags" : [],
        "symbols" : [],
        "user_mentions" : [
          {
            "name" : "Maya Lindqvist",
            "screen_name" : "mayabuilds",
            "indices" : [
              "0",
              "11"
            ],
            "id_str" : "1029384756",
            "id" : "1029384756"
          }
        ],
        "urls" : []
      },
      "display_text_range" : [
        "12",
        "130"
      ],
      "favorite_count" : "60",
      "in_reply_to_status_id_str" : "1532273963336277211",
      "id_str" : "1532274258839341584",
      "in_reply_to_user_id" : "1029384756",
      "truncated" : false,
      "retweet_count" : "10",
      "id" : "1532274258839341584",
      "in_reply_to_status_id" : "1532273963336277211",
      "created_at" : "Thu Jun 02 08:13:46 +0000 2022",
      "favorited" : false,
      "full_text" : "@mayabuilds 3/ Write down every page. Time, cause, what you did. After 6 weeks you'll have the only honest roadmap your team owns.",
      "lang" : "en",
      "in_reply_to_screen_name" : "mayabuilds",
      "in_reply_to_user_id_str" : "1029384756"
    }
  },
  {
    "tweet" : {
      "edit_info" : {
        "initial" : {
          "editTweetIds" : [
            "1532273963336277211"
          ],
          "editableUntil" : "2022-06-02T09:12:35.000Z",
          "editsRemaining" : "5",
          "isEditEligible" : false
        }
      },
      "retweeted" : false,
      "source" : "<a href=\"https://mobile.twitter.com\" rel=\"nofollow\">Twitter Web App</a>",
      "entities" : {
        "hashtags" : [],
        "symbols" : [],
        "user_mentions" : [
          {
            "name" : "Maya Lindqvist",
            "screen_name" : "mayabuilds",
            "indices" : [
              "0",
              "11"
            ],
            "id_str" : "1029384756",
            "id" : "1029384756"
          }
        ],
        "urls" : []
      },
      "display_text_range" : [
        "12",
        "135"
      ],
      "favorite_count" : "38",
      "in_reply_to_status_id_str" : "1532273313725493654",
      "id_str" : "1532273963336277211",
      "in_reply_to_user_id" : "1029384756",
      "truncated" : false,
      "retweet_count" : "4",
      "id" : "1532273963336277211",
      "in_reply_to_status_id" : "1532273313725493654",
      "created_at" : "Thu Jun 02 08:12:35 +0000 2022",
      "favorited" : false,
      "full_text" : "@mayabuilds 2/ The pager is not a test of character. If you get woken up 3 nights in a row, that's a system problem, not a you problem.",
      "lang" : "en",
      "in_reply_to_screen_name" : "mayabuilds",
      "in_reply_to_user_id_str" : "1029384756"
    }
  },
  {
    "tweet" : {
      "edit_info" : {
        "initial" : {
          "editTweetIds" : [
            "1532273313725493654"
          ],
          "editableUntil" : "2022-06-02T09:10:00.000Z",
          "editsRemaining" : "5",
          "isEditEligible" : false
        }
      },
      "retweeted" : false,
      "source" : "<a href=\"https://mobile.twitter.com\" rel=\"nofollow\">Twitter Web App</a>",
      "entities" : {
        "hashtags" : [],
        "symbols" : [],
        "user_mentions" : [],
        "urls" : []
      },
      "display_text_range" : [
        "0",
        "113"
      ],
      "favorite_count" : "395",
      "id_str" : "1532273313725493654",
      "truncated" : false,
      "retweet_count" : "24",
      "id" : "1532273313725493654",
      "created_at" : "Thu Jun 02 08:10:00 +0000 2022",
      "favorited" : false,
      "full_text" : "1/ Things I wish someone had told me before my first on-call week. A thread, because apparently I have opinions 🧵",
      "lang" : "en"
    }
  },
  {
    "tweet" : {
      "edit_info" : {
        "initial" : {
          "editTweetIds" : [
            "1531573212135101782"
          ],
          "editableUntil" : "2022-05-31T10:48:03.000Z",
          "editsRemaining" : "5",
          "isEditEligible" : false
        }
      },
      "retweeted" : false,
      "source" : "<a href=\"https://mobile.twitter.com\" rel=\"nofollow\">Twitter Web App</a>",
      "entities" : {
        "hashtags" : [],
        "symbols" : [],
        "user_mentions" : [],
        "urls" : []
      },
      "display_text_range" : [
        "0",
        "118"
      ],
      "favorite_count" : "58",
      "id_str" : "1531573212135101782",
      "truncated" : false,
      "retweet_count" : "13",
      "id" : "1531573212135101782",
      "created_at" : "Tue May 31 09:48:03 +0000 2022",
      "favorited" : false,
      "full_text" : "A design doc is not a proposal to your manager. It's a letter to the person who debugs this in two years. Usually you.",
      "lang" : "en"
    }
  },
  {
    "tweet" : {
      "edit_info" : {
        "initial" : {
          "editTweetIds" : [
            "1524110321957261786"
          ],
          "editableUntil" : "2022-05-10T20:33:12.000Z",
          "editsRemaining" : "5",
          "isEditEligible" : false
        }
      },
      "retweeted" : false,
      "source" : "<a href=\"https://mobile.twitter.com\" rel=\"nofollow\">Twitter Web App</a>",
      "entities" : {
        "hashtags" : [
          {
            "text" : "oncall",
            "indices" : [
              "108",
              "115"
            ]
          }
        ],
        "symbols" : [],
        "user_mentions" : [],
        "urls" : []
      },
      "display_text_range" : [
        "0",
        "115"
      ],
      "favorite_count" : "59",
      "id_str" : "1524110321957261786",
      "truncated" : false,
      "retweet_count" : "12",
      "id" : "1524110321957261786",
      "created_at" : "Tue May 10 19:33:12 +0000 2022",
      "favorited" : false,
      "full_text" : "On-call tip: if the alert doesn't tell you what to do, it's not an alert. It's a notification with anxiety. #oncall",
      "lang" : "en"
    }
  },
  {
    "tweet" : {
      "edit_info" : {
        "initial" : {
          "editTweetIds" : [
            "1516327207200141056"
          ],
          "editableUntil" : "2022-04-19T09:05:52.000Z",
          "editsRemaining" : "5",
          "isEditEligible" : false
        }
      },
      "retweeted" : false,
      "source" : "<a href=\"https://mobile.twitter.com\" rel=\"nofollow\">Twitter Web App</a>",
      "entities" : {
        "hashtags" : [],
        "symbols" : [],
        "user_mentions" : [],
        "urls" : [
          {
            "url" : "https://t.co/WkHDeVX8nj",
            "expanded_url" : "https://mayabuilds.dev/boring-is-a-feature/",
            "display_url" : "mayabuilds.dev/boring-is-…",
            "indices" : [
              "79",
              "102"
            ]
          }
        ]
      },
      "display_text_range" : [
        "0",
        "102"
      ],
      "favorite_count" : "205",
      "id_str" : "1516327207200141056",
      "truncated" : false,
      "retweet_count" : "16",
      "id" : "1516327207200141056",
      "possibly_sensitive" : false,
      "created_at" : "Tue Apr 19 08:05:52 +0000 2022",
      "favorited" : false,
      "full_text" : "Wrote down the thing I say in every architecture review. Boring is a feature → https://t.co/WkHDeVX8nj",
      "lang" : "en"
    }
  },
  {
    "tweet" : {
      "edit_info" : {
        "initial" : {
          "editTweetIds" : [
            "1511315619985796196"
          ],
          "editableUntil" : "2022-04-05T13:11:37.000Z",
          "editsRemaining" : "5",
          "isEditEligible" : false
        }
      },
      "retweeted" : false,
      "source" : "<a href=\"https://mobile.twitter.com\" rel=\"nofollow\">Twitter Web App</a>",
      "entities" : {
        "hashtags" : [],
        "symbols" : [],
        "user_mentions" : [],
        "urls" : []
      },
      "display_text_range" : [
        "0",
        "199"
      ],
      "favorite_count" : "45",
      "id_str" : "1511315619985796196",
      "truncated" : false,
      "retweet_count" : "7",
      "id" : "1511315619985796196",
      "created_at" : "Tue Apr 05 12:11:37 +0000 2022",
      "favorited" : false,
      "full_text" : "A junior asked how I know which Postgres setting to tune. Honest answer: I don't. I measure, change one thing, measure again. It's slower than guessing. It's also the only thing that has ever worked.",
      "lang" : "en"
    }
  },
  {
    "tweet" : {
      "edit_info" : {
        "initial" : {
          "editTweetIds" : [
            "1506310990393239633"
          ],
          "editableUntil" : "2022-03-22T17:45:00.000Z",
          "editsRemaining" : "5",
          "isEditEligible" : false
        }
      },
      "retweeted" : false,
      "source" : "<a href=\"https://mobile.twitter.com\" rel=\"nofollow\">Twitter Web App</a>",
      "entities" : {
        "hashtags" : [],
        "symbols" : [],
        "user_mentions" : [],
        "urls" : []
      },
      "display_text_range" : [
        "0",
        "50"
      ],
      "favorite_count" : "62",
      "id_str" : "1506310990393239633",
      "truncated" : false,
      "retweet_count" : "11",
      "id" : "1506310990393239633",
      "created_at" : "Tue Mar 22 16:45:00 +0000 2022",
      "favorited" : false,
      "full_text" : "ngl the best code I wrote this month was a DELETE.",
      "lang" : "en"
    }
  },
  {
    "tweet" : {
      "edit_info" : {
        "initial" : {
          "editTweetIds" : [
            "1501473031489760975"
          ],
          "editableUntil" : "2022-03-09T09:20:41.000Z",
          "editsRemaining" : "5",
          "isEditEligible" : false
        }
      },
      "retweeted" : false,
      "source" : "<a href=\"https://mobile.twitter.com\" rel=\"nofollow\">Twitter Web App</a>",
      "entities" : {
        "hashtags" : [],
        "symbols" : [],
        "user_mentions" : [
          {
            "name" : "Sparrow on Postgres",
            "screen_name" : "pg_sparrow",
            "indices" : [
              "0",
              "11"
            ],
            "id_str" : "1184739201",
            "id" : "1184739201"
          }
        ],
        "urls" : []
      },
      "display_text_range" : [
        "12",
        "136"
      ],
      "favorite_count" : "11",
      "in_reply_to_status_id_str" : "1501302488571497305",
      "id_str" : "1501473031489760975",
      "in_reply_to_user_id" : "1184739201",
      "truncated" : false,
      "retweet_count" : "0",
      "id" : "1501473031489760975",
      "in_reply_to_status_id" : "1501302488571497305",
      "created_at" : "Wed Mar 09 08:20:41 +0000 2022",
      "favorited" : false,
      "full_text" : "@pg_sparrow Peak is ~300 events/sec. Postgres yawns at that. If we ever hit 30k I'll happily eat my words and set up the cluster myself.",
      "lang" : "en",
      "in_reply_to_screen_name" : "pg_sparrow",
      "in_reply_to_user_id_str" : "1184739201"
    }
  },
  {
    "tweet" : {
      "edit_info" : {
        "initial" : {
          "editTweetIds" : [
            "1501136219588681651"
          ],
          "editableUntil" : "2022-03-08T11:02:19.000Z",
          "editsRemaining" : "5",
          "isEditEligible" : false
        }
      },
      "retweeted" : false,
      "source" : "<a href=\"https://mobile.twitter.com\" rel=\"nofollow\">Twitter Web App</a>",
      "entities" : {
        "hashtags" : [],
        "symbols" : [],
        "user_mentions" : [],
        "urls" : [
          {
            "url" : "https://t.co/ZNPixZxcXp",
            "expanded_url" : "https://mayabuilds.dev/why-we-said-no-to-kafka/",
            "display_url" : "mayabuilds.dev/why-we-sai…",
            "indices" : [
              "143",
              "166"
            ]
          }
        ]
      },
      "display_text_range" : [
        "0",
        "166"
      ],
      "favorite_count" : "100",
      "id_str" : "1501136219588681651",
      "truncated" : false,
      "retweet_count" : "13",
      "id" : "1501136219588681651",
      "possibly_sensitive" : false,
      "created_at" : "Tue Mar 08 10:02:19 +0000 2022",
      "favorited" : false,
      "full_text" : "Hot take: most teams under 20 engineers don't need Kafka. They need a table &amp; a cron job &amp; someone who read the docs. We said no. Here's why → https://t.co/ZNPixZxcXp",
      "lang" : "en"
    }
  },
  {
    "tweet" : {
      "edit_info" : {
        "initial" : {
          "editTweetIds" : [
            "1493938397517900789"
          ],
          "editableUntil" : "2022-02-16T14:20:44.000Z",
          "editsRemaining" : "5",
          "isEditEligible" : false
        }
      },
      "retweeted" : false,
      "source" : "<a href=\"https://mobile.twitter.com\" rel=\"nofollow\">Twitter Web App</a>",
      "entities" : {
        "hashtags" : [],
        "symbols" : [],
        "user_mentions" : [],
        "urls" : []
      },
      "display_text_range" : [
        "0",
        "145"
      ],
      "favorite_count" : "29",
      "id_str" : "1493938397517900789",
      "truncated" : false,
      "retweet_count" : "3",
      "id" : "1493938397517900789",
      "created_at" : "Wed Feb 16 13:20:44 +0000 2022",
      "favorited" : false,
      "full_text" : "Things I check before approving a migration:\n→ does it take a lock\n→ for how long\n→ what else is waiting behind it\n\nThat's it. That's the review.",
      "lang" : "en"
    }
  },
  {
    "tweet" : {
      "edit_info" : {
        "initial" : {
          "editTweetIds" : [
            "1488794589718094500"
          ],
          "editableUntil" : "2022-02-02T09:41:05.000Z",
          "editsRemaining" : "5",
          "isEditEligible" : false
        }
      },
      "retweeted" : false,
      "source" : "<a href=\"http://twitter.com/download/android\" rel=\"nofollow\">Twitter for Android</a>",
      "entities" : {
        "hashtags" : [],
        "symbols" : [],
        "user_mentions" : [],
        "urls" : []
      },
      "display_text_range" : [
        "0",
        "70"
      ],
      "favorite_count" : "39",
      "id_str" : "1488794589718094500",
      "truncated" : false,
      "retweet_count" : "7",
      "id" : "1488794589718094500",
      "created_at" : "Wed Feb 02 08:41:05 +0000 2022",
      "favorited" : false,
      "full_text" : "Rode in at -6°C today. The canal path was ice. Standup was also ice. 🚲",
      "lang" : "en"
    }
  },
  {
    "tweet" : {
      "edit_info" : {
        "initial" : {
          "editTweetIds" : [
            "1484071237982560847"
          ],
          "editableUntil" : "2022-01-20T08:52:10.000Z",
          "editsRemaining" : "5",
          "isEditEligible" : false
        }
      },
      "retweeted" : false,
      "source" : "<a href=\"https://mobile.twitter.com\" rel=\"nofollow\">Twitter Web App</a>",
      "entities" : {
        "hashtags" : [],
        "symbols" : [],
        "user_mentions" : [],
        "urls" : [
          {
            "url" : "https://t.co/gd8MNYMs0Q",
            "expanded_url" : "https://mayabuilds.dev/we-moved-our-job-queue-into-postgres/",
            "display_url" : "mayabuilds.dev/we-moved-o…",
            "indices" : [
              "162",
              "185"
            ]
          }
        ]
      },
      "display_text_range" : [
        "0",
        "185"
      ],
      "favorite_count" : "196",
      "id_str" : "1484071237982560847",
      "truncated" : false,
      "retweet_count" : "29",
      "id" : "1484071237982560847",
      "possibly_sensitive" : false,
      "created_at" : "Thu Jan 20 07:52:10 +0000 2022",
      "favorited" : false,
      "full_text" : "We moved our job queue into Postgres in November. 41 million jobs later: zero pages. Wrote up the table, the one index and the one query that does all the work → https://t.co/gd8MNYMs0Q",
      "lang" : "en"
    }
  },
  {
    "tweet" : {
      "edit_info" : {
        "initial" : {
          "editTweetIds" : [
            "1480830472330004276"
          ],
          "editableUntil" : "2022-01-11T10:14:31.000Z",
          "editsRemaining" : "5",
          "isEditEligible" : false
        }
      },
      "retweeted" : false,
      "source" : "<a href=\"https://mobile.twitter.com\" rel=\"nofollow\">Twitter Web App</a>",
      "entities" : {
        "hashtags" : [],
        "symbols" : [],
        "user_mentions" : [],
        "urls" : []
      },
      "display_text_range" : [
        "0",
        "69"
      ],
      "favorite_count" : "62",
      "id_str" : "1480830472330004276",
      "truncated" : false,
      "retweet_count" : "14",
      "id" : "1480830472330004276",
      "created_at" : "Tue Jan 11 09:14:31 +0000 2022",
      "favorited" : false,
      "full_text" : "New year. Same Postgres. Same three cron jobs. Boring is a feature. 🐘",
      "lang" : "en"
    }
  }
]
